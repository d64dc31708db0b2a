using Scalelite.Core.Recordings;

namespace Scalelite.Core.Persistence.Recordings;

/// <summary>A recording of the pool's index: one row per recordID, whichever BBB server recorded it.</summary>
public sealed class Recording
{
    public long Id { get; set; }

    public required string RecordId { get; set; }

    /// <summary>The external meetingID the LMS used.</summary>
    public required string MeetingId { get; set; }

    public required string InternalMeetingId { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public bool IsBreakout { get; set; }

    public bool Published { get; set; }

    /// <summary>BBB's state, one of <see cref="RecordingState"/>'s values.</summary>
    public string State { get; set; } = RecordingState.Published;

    public DateTimeOffset StartTime { get; set; }

    public DateTimeOffset EndTime { get; set; }

    public int Participants { get; set; }

    public long RawSize { get; set; }

    /// <summary>Playback needs a one-time token (protected recordings).</summary>
    public bool Protected { get; set; }

    /// <summary>An LMS set <see cref="Published"/> through publishRecordings (Scalelite's <c>publish_updated</c>): a re-import keeps it.</summary>
    public bool PublishUpdated { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }

    public List<RecordingMetadata> Metadata { get; set; } = [];

    public List<PlaybackFormat> Formats { get; set; } = [];

    public List<TextTrack> TextTracks { get; set; } = [];
}

/// <summary>One <c>meta_</c> entry of a recording (key without the prefix).</summary>
public sealed class RecordingMetadata
{
    public long Id { get; set; }

    public long RecordingId { get; set; }

    public required string Key { get; set; }

    public string Value { get; set; } = string.Empty;
}

/// <summary>One playback format (presentation, video, podcast, ...) of a recording.</summary>
public sealed class PlaybackFormat
{
    public long Id { get; set; }

    public long RecordingId { get; set; }

    /// <summary>The format name, BBB's <c>type</c>.</summary>
    public required string Format { get; set; }

    /// <summary>The playback URL as the BBB server wrote it; answers rewrite its host to the one the client called.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>Milliseconds.</summary>
    public long ProcessingTime { get; set; }

    /// <summary>Milliseconds (answers give minutes, as BBB's <c>length</c>).</summary>
    public long Duration { get; set; }

    public long Size { get; set; }

    public List<Thumbnail> Thumbnails { get; set; } = [];
}

public sealed class Thumbnail
{
    public long Id { get; set; }

    public long PlaybackFormatId { get; set; }

    public required string Url { get; set; }

    public int? Width { get; set; }

    public int? Height { get; set; }

    public string? Alt { get; set; }

    public int Sequence { get; set; }
}

/// <summary>A caption track kept beside a recording (getRecordingTextTracks / putRecordingTextTrack).</summary>
public sealed class TextTrack
{
    public long Id { get; set; }

    public long RecordingId { get; set; }

    public string Kind { get; set; } = "captions";

    public required string Lang { get; set; }

    public string Label { get; set; } = string.Empty;

    /// <summary>Where it came from: <c>upload</c>, <c>live</c>, ...</summary>
    public string Source { get; set; } = "upload";

    /// <summary>The file, relative to the published recordings directory.</summary>
    public string Path { get; set; } = string.Empty;

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A callback an LMS asked for at create (recording-ready), captured by the API and delivered by RecordingSync
/// after import, signed with the secret the LMS used.
/// </summary>
public sealed class Callback
{
    public long Id { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public required string MeetingId { get; set; }

    /// <summary>Known once the meeting was created on a server; recordings name it.</summary>
    public string? InternalMeetingId { get; set; }

    /// <summary><c>recording-ready</c> or <c>analytics</c>.</summary>
    public required string Kind { get; set; }

    public required string Url { get; set; }

    /// <summary>The recording this delivery is about (null until a recording of the meeting is imported).</summary>
    public string? RecordId { get; set; }

    /// <summary>An analytics delivery's JSON body, as the BBB server posted it plus <c>customer</c>; null for other kinds.</summary>
    public string? Payload { get; set; }

    /// <summary>pending, delivered, failed.</summary>
    public string Status { get; set; } = "pending";

    public int Attempts { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }
}

/// <summary>One archive's trip through the importer: when it arrived, when it was indexed, or why it was set aside.</summary>
public sealed class RecordingImport
{
    public long Id { get; set; }

    public required string Archive { get; set; }

    public string? RecordId { get; set; }

    /// <summary>The values of <see cref="Outcome"/>.</summary>
    public const string Imported = "imported";

    /// <summary>Set aside in <c>spool/failed/</c> as malformed.</summary>
    public const string Failed = "failed";

    /// <summary>The recording was deleted before this archive arrived: nothing was imported.</summary>
    public const string Ignored = "ignored";

    /// <summary><see cref="Imported"/>, <see cref="Failed"/> or <see cref="Ignored"/>.</summary>
    public required string Outcome { get; set; }

    public string? Reason { get; set; }

    public DateTimeOffset ArrivedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }
}
