using System.ComponentModel.DataAnnotations;

namespace Scalelite.Api.Recordings;

/// <summary>
/// What the recording API needs from the <c>Recording</c> section (shared with RecordingSync, which binds its own
/// class to the same section); see <see cref="Core.Configuration.Settings"/> for each setting's Scalelite name.
/// </summary>
public sealed class RecordingApiOptions
{
    public const string Section = "Recording";

    [Required] public string PublishDir { get; set; } = "/var/bigbluebutton/published";

    [Required] public string UnpublishDir { get; set; } = "/var/bigbluebutton/unpublished";

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
}
