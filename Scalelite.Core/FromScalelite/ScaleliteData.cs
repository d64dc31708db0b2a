namespace Scalelite.Core.FromScalelite;

/// <summary>A server as Scalelite keeps it in Redis (<c>server:&lt;id&gt;</c>, with its load from the load sets).</summary>
/// <param name="State">enabled, cordoned or disabled; for rows without a <c>state</c> field, from the legacy <c>server_enabled</c> set.</param>
/// <param name="LoadMultiplier">As stored (a decimal string); null when the server has none.</param>
/// <param name="Load">From <c>server_load</c> (enabled) or <c>cordoned_server_load</c> (cordoned); null when unknown.</param>
public sealed record SourceServer(
    string Id,
    string? Url,
    string? Secret,
    string? Tag,
    string State,
    string? LoadMultiplier,
    bool Online,
    double? Load,
    string? BbbVersion,
    int Meetings,
    int Users,
    int LargestMeeting,
    int Videos);

/// <summary>A tenant, from Redis (<c>tenant:&lt;id&gt;</c>) or from the <c>tenants</c> table some versions had.</summary>
/// <param name="Fields">Every other stored field (LRS and Keycloak settings), by name.</param>
public sealed record SourceTenant(
    string Id,
    string Name,
    IReadOnlyList<string> Secrets,
    IReadOnlyDictionary<string, string> Fields,
    IReadOnlyList<SourceTenantSetting> Settings);

/// <summary>A tenant setting (<c>tenant_setting:&lt;id&gt;</c>): a create/join parameter, as a default or an override.</summary>
public sealed record SourceTenantSetting(string Id, string Param, string Value, bool Override);

/// <summary>A running meeting (<c>meeting:&lt;meetingID&gt;</c>): who owns it and its dial-in number.</summary>
public sealed record SourceMeeting(string MeetingId, string ServerId, string? ModeratorPassword, string? VoiceBridge, string? TenantId);

/// <summary>A row of <c>recordings</c> with its <c>metadata</c>, <c>playback_formats</c> and <c>thumbnails</c>.</summary>
public sealed record SourceRecording(
    long Id,
    string? RecordId,
    string? MeetingId,
    string? Name,
    bool Published,
    int? Participants,
    string? State,
    DateTime? StartTime,
    DateTime? EndTime,
    DateTime? DeletedAt,
    bool Protected,
    bool PublishUpdated,
    IReadOnlyList<SourceMetadatum> Metadata,
    IReadOnlyList<SourcePlaybackFormat> Formats);

public sealed record SourceMetadatum(string? Key, string? Value);

/// <param name="Url">Path and query only: Scalelite adds the host the client called.</param>
/// <param name="Length">Minutes.</param>
public sealed record SourcePlaybackFormat(long Id, string? Format, string? Url, int? Length, int? ProcessingTime, IReadOnlyList<SourceThumbnail> Thumbnails);

public sealed record SourceThumbnail(int? Width, int? Height, string? Alt, string? Url, int? Sequence);

/// <summary>A row of <c>callback_data</c>: the URLs an LMS passed at create, kept per meetingID.</summary>
/// <param name="RecordingId">The last recording imported for it; null while none has been.</param>
public sealed record SourceCallback(
    long Id,
    string? MeetingId,
    long? RecordingId,
    string? RecordingReadyUrl,
    string? AnalyticsCallbackUrl,
    DateTime? CreatedAt);
