using Microsoft.Extensions.Configuration;

namespace Scalelite.Core.Configuration;

/// <summary>
/// One setting as an operator sees it: our configuration key, the Scalelite environment variable
/// that also sets it (so an existing Scalelite <c>.env</c> keeps working), its default and meaning.
/// </summary>
/// <param name="EmptyIsAValue">An empty Scalelite variable means something (it is passed on) rather than "unset".</param>
public sealed record SettingDescriptor(string Key, string? ScaleliteName, string Default, string Description, bool EmptyIsAValue = false);

/// <summary>
/// The table of every setting. It is the single source for configuration binding of Scalelite's
/// environment variable names and for the configuration reference in the docs.
/// </summary>
public static class SettingCatalog
{
    public static readonly IReadOnlyList<SettingDescriptor> All =
    [
        new("Scalelite:Secrets", "LOADBALANCER_SECRET", "(required)", "Shared secret(s) that LMSs sign their API calls with. Several may be given, separated by ':' (rollover)."),
        new("Scalelite:AdditionalSecrets", "LOADBALANCER_SECRETS", "(empty)", "More accepted secrets, separated by ':'."),
        new("Scalelite:ChecksumAlgorithms", "LOADBALANCER_CHECKSUM_ALGORITHM", "SHA1:SHA256:SHA384:SHA512", "Accepted checksum algorithms, separated by ':'. Backend calls are signed with SHA256 unless set, else with the strongest listed."),
        new("Scalelite:UrlHost", "URL_HOST", "(the host the client called)", "Host name used in URLs we hand out. With multitenancy, a host tenant is reached at a sub-domain of it (NAME.URL_HOST)."),
        new("Scalelite:MaxMeetingDuration", "MAX_MEETING_DURATION", "0 (no cap)", "Caps the create duration parameter, in minutes."),
        new("Scalelite:MeetingTtl", "DEFAULT_MEETING_TTL", "86400", "Seconds a meeting's ownership is kept without being seen by the poller."),
        new("Scalelite:CreateExcludeParams", "CREATE_EXCLUDE_PARAMS", "(empty)", "Comma-separated create parameters that are dropped before the call reaches a server."),
        new("Scalelite:JoinExcludeParams", "JOIN_EXCLUDE_PARAMS", "(empty)", "Comma-separated join parameters that are dropped."),
        new("Scalelite:DefaultCreateParams", "DEFAULT_CREATE_PARAMS", "(empty)", "Comma-separated key=value pairs added to create unless the request has them."),
        new("Scalelite:OverrideCreateParams", "OVERRIDE_CREATE_PARAMS", "(empty)", "Comma-separated key=value pairs that replace the request's create parameters."),
        new("Scalelite:DefaultJoinParams", "DEFAULT_JOIN_PARAMS", "(empty)", "Comma-separated key=value pairs added to join unless the request has them."),
        new("Scalelite:OverrideJoinParams", "OVERRIDE_JOIN_PARAMS", "(empty)", "Comma-separated key=value pairs that replace the request's join parameters."),
        new("Scalelite:GetMeetingsApiDisabled", "GET_MEETINGS_API_DISABLED", "false", "Answer getMeetings with an empty list (for large pools that do not need it)."),
        new("Scalelite:VoiceBridgeLength", "VOICE_BRIDGE_LEN", "9", "Digits of generated voice bridge numbers."),
        new("Scalelite:UseExternalVoiceBridge", "USE_EXTERNAL_VOICE_BRIDGE", "false", "Keep the voiceBridge the LMS passes (still checked for uniqueness) instead of generating one."),
        new("Scalelite:MultitenancyEnabled", "MULTITENANCY_ENABLED", "false", "Tenants: each school's LMS gets its own host (NAME.URL_HOST) or path (/t/NAME/bigbluebutton/api) and secrets, and sees only its own meetings and recordings. See the tenancy section of docs/operations.md."),
        new("Scalelite:AdminSecrets", null, "(the load-balancer secrets)", "Secrets of the admin API (/scalelite/api, checksum) and the operator API (/api/v1, bearer token), separated by ':'. Once set, the load-balancer secrets no longer open them; tenant secrets never do."),
        new("Tenancy:DefaultTenant", null, "false", "With multitenancy on, requests that name no tenant (the bare URL_HOST, no /t/NAME) are served as the default tenant with the load-balancer secrets, instead of checksumError."),
        new("Tenancy:ReloadInterval", null, "5", "Seconds between reloads of the tenants from PostgreSQL on each API replica; changes made through the APIs reach every replica at once anyway."),
        new("Scalelite:CreateDedupWindow", null, "30", "Seconds during which an identical repeated create is answered from the first answer (duplicateWarning) without a backend call."),
        new("Scalelite:BuildNumber", "BUILD_NUMBER", "(empty)", "Answered as <build> by the API's index call, as Scalelite answers it (its images set the release tag)."),
        new("Scalelite:ServerIdIsHostname", "SERVER_ID_IS_HOSTNAME", "false", "A server added without an id gets its URL's host name (lower-cased) as id, as in Scalelite; a second server on the same host is refused. An id given, and servers sync's file keys, win."),
        new("Scalelite:MaxQueryLength", null, "131072", "Longest accepted query string or form body, in bytes; longer ones get a FAILED answer."),
        new("Load:MinUserCount", "LOAD_MIN_USER_COUNT", "15", "A young meeting counts at least this many users."),
        new("Load:JoinBufferTime", "LOAD_JOIN_BUFFER_TIME", "15", "Minutes a meeting counts as young."),
        new("Load:UserWeight", null, "1", "Load of each user (participantCount) of a meeting, before the server's multiplier."),
        new("Load:ModeratorWeight", null, "1", "Load added for each moderator (BBB counts moderators among participants too, and Scalelite adds them again)."),
        new("Load:VideoWeight", null, "0", "Load of each video stream."),
        new("Load:MeetingWeight", null, "0", "Load of each meeting, whatever its size."),
        new("Load:MaxSizeHint", null, "1000", "Largest size hint (meta_bbb-meeting-size-hint or maxParticipants) a create may reserve seats for."),
        new("Poller:Interval", "POLL_INTERVAL", "60", "Seconds between poll cycles."),
        new("Poller:HealthyThreshold", "SERVER_HEALTHY_THRESHOLD", "1", "Consecutive successful polls that bring an offline server online."),
        new("Poller:UnhealthyThreshold", "SERVER_UNHEALTHY_THRESHOLD", "2", "Consecutive failed polls that take an online server offline (its meetings are forgotten)."),
        new("Poller:ReconcileGrace", null, "5", "Seconds of clock skew allowed between API and poller hosts: a meeting placed less than this before a poll began is not forgotten when that poll does not list it."),
        new("Canary:Interval", "CANARY_INTERVAL", "600", "Seconds between canary rounds: the poller creates, joins (redirect=false), looks up and ends a test meeting directly on each enabled online server, and raises the canary alert when a step fails. 0 turns the canary off."),
        new("MeetingHistory:Days", "MEETING_HISTORY_DAYS", "30", "Days an ended meeting's history (its creates, placement, joins, end and recordings) is kept before it is pruned."),
        new("Pool:AdmissionTestMeeting", null, "false", "Before a server is enabled, create and end a test meeting on it; enabling is refused if that fails."),
        new("Pool:MaxDrainWait", null, "300", "Longest wait, in seconds, one drain request through the operator API may ask for."),
        new("Backend:ConnectTimeout", "CONNECT_TIMEOUT", "5", "Seconds to connect to a BBB server."),
        new("Backend:ResponseTimeout", "RESPONSE_TIMEOUT", "10", "Seconds to wait for a BBB server's answer."),
        new("Backend:FanOutTimeout", null, "(RESPONSE_TIMEOUT)", "Seconds getMeetings waits for each server before leaving it out of the answer."),
        new("ConnectionStrings:scalelite", "DATABASE_URL", "(required)", "PostgreSQL. DATABASE_URL may be a postgres:// URL as Scalelite takes it."),
        new("ConnectionStrings:redis", "REDIS_URL", "(required)", "Redis. REDIS_URL may be a redis:// URL as Scalelite takes it."),
        new("Redis:Timeout", null, "1", "Seconds a Redis command (or connecting) may take before Redis is taken as down: joins and creates then go on without it (see docs/operations.md, \"When Redis fails\")."),
        new("Recording:SpoolDir", "RECORDING_SPOOL_DIR", "/var/bigbluebutton/spool", "Where BBB nodes drop recording archives."),
        new("Recording:WorkDir", "RECORDING_WORK_DIR", "/var/bigbluebutton/recording/scalelite", "Scratch space for imports."),
        new("Recording:PublishDir", "RECORDING_PUBLISH_DIR", "/var/bigbluebutton/published", "Published recordings."),
        new("Recording:UnpublishDir", "RECORDING_UNPUBLISH_DIR", "/var/bigbluebutton/unpublished", "Unpublished recordings."),
        new("Recording:ImportPollInterval", "RECORDING_IMPORT_POLL_INTERVAL", "60", "Seconds between rescans of the spool directory."),
        new("Recording:ImportUnpublished", "RECORDING_IMPORT_UNPUBLISHED", "false", "Import every recording as unpublished, whatever its metadata says."),
        new("Recording:Disabled", "RECORDING_DISABLED", "false", "Recordings are off: RecordingSync leaves the spool alone, and the recording calls answer as Scalelite's do then."),
        new("Recording:ImportParallelism", null, "2", "Archives imported at once."),
        new("Recording:ImportSettleTime", null, "5", "Seconds after its last write after which an archive is taken as complete even if its size was seen only once."),
        new("Recording:ImportClaimTimeout", null, "600", "Seconds after which an archive claimed by an importer that stopped renewing its claim is taken over by another importer."),
        new("Recording:CallbackAttempts", null, "8", "Attempts at delivering a recording-ready or analytics callback before it is marked failed."),
        new("Recording:CallbackRetryDelay", null, "10", "Seconds before the first retry of a callback; each later retry waits twice as long, at most an hour."),
        new("Recording:GetRecordingsApiFiltered", "GET_RECORDINGS_API_FILTERED", "false", "getRecordings must name a meetingID or recordID; without one it answers FAILED missingParameters."),
        new("Recording:ProtectedRecordingsEnabled", "PROTECTED_RECORDINGS_ENABLED", "false", "Protected recordings get playback URLs with a one-time token, exchanged for a cookie scoped to that recording."),
        new("Recording:ProtectedRecordingsTokenTimeout", "PROTECTED_RECORDINGS_TOKEN_TIMEOUT", "60", "Minutes a one-time playback token stays valid."),
        new("Recording:ProtectedRecordingsTimeout", "PROTECTED_RECORDINGS_TIMEOUT", "360", "Minutes the playback cookie stays valid."),
        new("Recording:InternalLocation", null, "/scalelite-recordings", "The web server's internal location serving the recording volume; playback answers X-Accel-Redirect into it (see deploy/nginx/)."),
        new("Recording:MaxTextTrackSize", null, "8388608", "Largest caption file putRecordingTextTrack accepts, in bytes."),
        new("Recording:ArrivalWindow", null, "12", "Hours after a recorded meeting was last seen running during which its recording is expected: removing its server without force waits for it."),
        new("Recording:PageSize", null, "500", "Recordings read from PostgreSQL per round trip while a getRecordings answer streams out."),
        new("FsApi:Password", "FSAPI_PASSWORD", "(the first load-balancer secret)", "Password of user 'fsapi' (HTTP Basic) for FreeSWITCH's dialplan requests to /fsapi; empty turns authentication off.", EmptyIsAValue: true),
        new("FsApi:MaxDuration", "FSAPI_MAX_DURATION", "(MAX_MEETING_DURATION)", "Minutes after which a dialled-in call is hung up; 0 for never."),
        new("FsApi:VoiceBridgeMin", "VOICE_BRIDGE_MIN", "5", "Fewest digits the dial-in PIN prompt accepts."),
        new("FsApi:VoiceBridgeMax", "VOICE_BRIDGE_MAX", "9", "Most digits the dial-in PIN prompt accepts (a breakout room's PIN is one digit longer than its meeting's voice bridge)."),
        .. Monitoring.AlertOptions.Settings,
    ];

    /// <summary>
    /// Adds a configuration source that maps Scalelite's environment variable names onto our keys.
    /// Our own keys (environment <c>Poller__Interval</c>, appsettings, command line) win when both are set.
    /// </summary>
    public static IConfigurationBuilder AddScaleliteEnvironment(this IConfigurationBuilder builder, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in All)
        {
            if (setting.ScaleliteName is null || environment(setting.ScaleliteName) is not { } value || (value.Length == 0 && !setting.EmptyIsAValue))
            {
                continue;
            }

            values[setting.Key] = setting.ScaleliteName switch
            {
                "DATABASE_URL" => ConnectionStrings.FromPostgresUrl(value),
                "REDIS_URL" => ConnectionStrings.FromRedisUrl(value),
                _ => value,
            };
        }

        // Inserted first so that every later source (our own names) takes precedence.
        var source = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = values };
        if (builder.Sources.Count > 0)
        {
            builder.Sources.Insert(0, source);
        }
        else
        {
            builder.Sources.Add(source);
        }

        return builder;
    }
}
