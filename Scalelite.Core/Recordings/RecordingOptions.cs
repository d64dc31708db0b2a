using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;

namespace Scalelite.Core.Recordings;

/// <summary>
/// Recording settings (section <c>Recording</c>), shared by the importer and the recording API; see
/// <see cref="Configuration.SettingCatalog"/> for each one's Scalelite name.
/// </summary>
public sealed class RecordingOptions
{
    public const string Section = "Recording";

    /// <summary>Where BBB nodes drop recording archives.</summary>
    [Required] public string SpoolDir { get; set; } = "/var/bigbluebutton/spool";

    /// <summary>Scratch space for extraction; best on the same file system as the publish directories, so moves are renames.</summary>
    [Required] public string WorkDir { get; set; } = "/var/bigbluebutton/recording/scalelite";

    [Required] public string PublishDir { get; set; } = "/var/bigbluebutton/published";

    [Required] public string UnpublishDir { get; set; } = "/var/bigbluebutton/unpublished";

    /// <summary>Seconds between rescans of the spool (file system notifications are not trusted alone, NFS may not send them).</summary>
    [Range(0.05, 86400)] public double ImportPollInterval { get; set; } = 60;

    /// <summary>Import every recording as unpublished, whatever its metadata says.</summary>
    public bool ImportUnpublished { get; set; }

    /// <summary>Recordings are off: the importer leaves the spool alone.</summary>
    public bool Disabled { get; set; }

    /// <summary>How many archives are imported at once.</summary>
    [Range(1, 64)] public int ImportParallelism { get; set; } = 2;

    /// <summary>Seconds after its last write after which an archive whose size has not been seen twice is taken as complete.</summary>
    [Range(0, 3600)] public double ImportSettleTime { get; set; } = 5;

    /// <summary>Seconds after which an archive claimed by an importer that stopped renewing its claim (it died) is taken over by another.</summary>
    [Range(1, 86400)] public double ImportClaimTimeout { get; set; } = 600;

    /// <summary>Attempts at delivering one recording-ready callback before it is marked failed.</summary>
    [Range(1, 100)] public int CallbackAttempts { get; set; } = 8;

    /// <summary>Seconds before the first retry of a callback; each later retry waits twice as long (capped at an hour).</summary>
    [Range(0.01, 3600)] public double CallbackRetryDelay { get; set; } = 10;

    /// <summary>getRecordings must name a meetingID or a recordID (large installations that never list everything).</summary>
    public bool GetRecordingsApiFiltered { get; set; }

    public bool ProtectedRecordingsEnabled { get; set; }

    /// <summary>Minutes a one-time playback token stays valid.</summary>
    [Range(1, 7 * 24 * 60)] public int ProtectedRecordingsTokenTimeout { get; set; } = 60;

    /// <summary>Minutes the playback cookie a token is exchanged for stays valid.</summary>
    [Range(1, 7 * 24 * 60)] public int ProtectedRecordingsTimeout { get; set; } = 360;

    /// <summary>The web server's internal location that serves the recording volume (see deploy/nginx/).</summary>
    [Required, RegularExpression("^/[A-Za-z0-9_/-]*$")] public string InternalLocation { get; set; } = "/scalelite-recordings";

    /// <summary>Largest caption file putRecordingTextTrack accepts, in bytes.</summary>
    [Range(1024, 512L * 1024 * 1024)] public long MaxTextTrackSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Rows read from PostgreSQL per round trip while a getRecordings answer streams out.</summary>
    [Range(10, 10000)] public int PageSize { get; set; } = 500;

    public TimeSpan TokenLifetime => TimeSpan.FromMinutes(ProtectedRecordingsTokenTimeout);

    public TimeSpan CookieLifetime => TimeSpan.FromMinutes(ProtectedRecordingsTimeout);

    /// <summary>Hours after a recorded meeting was last seen running during which its recording is still expected.</summary>
    [Range(0, 24 * 30)] public double ArrivalWindow { get; set; } = 12;

    public TimeSpan ArrivalWindowSpan => TimeSpan.FromHours(ArrivalWindow);

    public TimeSpan PollInterval => TimeSpan.FromSeconds(ImportPollInterval);

    public TimeSpan SettleTime => TimeSpan.FromSeconds(ImportSettleTime);

    public TimeSpan ClaimTimeout => TimeSpan.FromSeconds(ImportClaimTimeout);
}

public static class RecordingServiceExtensions
{
    /// <summary>Binds and validates <see cref="RecordingOptions"/> (both the importer and the API use them).</summary>
    public static IServiceCollection AddRecordingOptions(this IServiceCollection services)
    {
        services.AddOptions<RecordingOptions>().BindConfiguration(RecordingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
