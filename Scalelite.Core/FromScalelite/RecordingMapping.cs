using Scalelite.Core.Persistence.Recordings;

namespace Scalelite.Core.FromScalelite;

/// <summary>A row of Scalelite's recordings index as a row of ours, and the fingerprint both are compared by.</summary>
/// <remarks>
/// Scalelite's fields map one to one, with its units and gaps filled as its answers fill them: <c>length</c> is in
/// minutes (ours in milliseconds), playback and thumbnail URLs are paths (the host is added when answering, here as
/// there), a missing start or end time answers 0, a missing <c>participants</c> or <c>processing_time</c> is 0, and
/// <c>internalMeetingID</c> is the recordID. Fields Scalelite does not have (breakout flag, sizes) are left as they
/// are and are not part of the fingerprint, so an import here that fills them does not count as a change.
/// </remarks>
internal static class RecordingMapping
{
    internal sealed record Projection(
        string RecordId,
        string MeetingId,
        string InternalMeetingId,
        string TenantId,
        string Name,
        bool Published,
        string State,
        long StartTime,
        long EndTime,
        int Participants,
        bool Protected,
        bool PublishUpdated,
        long? DeletedAt,
        IReadOnlyList<string[]> Metadata,
        IReadOnlyList<FormatProjection> Formats);

    internal sealed record FormatProjection(string Format, string Url, long Duration, long ProcessingTime, IReadOnlyList<ThumbnailProjection> Thumbnails);

    internal sealed record ThumbnailProjection(int Sequence, string Url, int? Width, int? Height, string? Alt);

    /// <summary>The tenant a recording belongs to in Scalelite: its <c>tenant-id</c> metadatum.</summary>
    public static string? ScaleliteTenant(SourceRecording source) =>
        source.Metadata.FirstOrDefault(m => m.Key == "tenant-id")?.Value is { Length: > 0 } id ? id : null;

    /// <summary>Scalelite's row as ours; a reason instead when our schema cannot hold it.</summary>
    public static (Recording? Recording, string? Problem) Map(SourceRecording source, string tenantId, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(source.RecordId) || string.IsNullOrEmpty(source.MeetingId))
        {
            return (null, $"row {source.Id} has no {(string.IsNullOrEmpty(source.RecordId) ? "record_id" : "meeting_id")}");
        }

        var problem = source.RecordId.Length > 256 ? "a recordID longer than 256 characters"
            : source.MeetingId.Length > 512 ? "a meetingID longer than 512 characters"
            : source.State is { Length: > 32 } ? "a state longer than 32 characters"
            : source.Metadata.Any(m => m.Key is { Length: > 256 }) ? "a metadata key longer than 256 characters"
            : source.Formats.Any(f => f.Format is { Length: > 64 }) ? "a format name longer than 64 characters"
            : null;
        if (problem is not null)
        {
            return (null, problem);
        }

        var recording = new Recording
        {
            RecordId = source.RecordId,
            MeetingId = source.MeetingId,
            InternalMeetingId = source.RecordId,
            TenantId = tenantId,
            Name = source.Name ?? string.Empty,
            Published = source.Published,
            State = source.State ?? string.Empty,
            StartTime = Utc(source.StartTime) ?? DateTimeOffset.UnixEpoch,
            EndTime = Utc(source.EndTime) ?? DateTimeOffset.UnixEpoch,
            Participants = source.Participants ?? 0,
            Protected = source.Protected,
            PublishUpdated = source.PublishUpdated,
            DeletedAt = Utc(source.DeletedAt),
            CreatedAt = now,
            UpdatedAt = now,
            Metadata = [.. source.Metadata
                .Where(m => !string.IsNullOrEmpty(m.Key))
                .DistinctBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => new RecordingMetadata { Key = m.Key!, Value = m.Value ?? string.Empty })],
            Formats = [.. source.Formats
                .Where(f => !string.IsNullOrEmpty(f.Format))
                .DistinctBy(f => f.Format, StringComparer.Ordinal)
                .Select(f => new PlaybackFormat
                {
                    Format = f.Format!,
                    Url = f.Url ?? string.Empty,
                    Duration = (f.Length ?? 0) * 60_000L,
                    ProcessingTime = f.ProcessingTime ?? 0,
                    Thumbnails = [.. f.Thumbnails.Select((t, i) => new Thumbnail
                    {
                        Url = t.Url ?? string.Empty,
                        Width = t.Width,
                        Height = t.Height,
                        Alt = t.Alt,
                        Sequence = t.Sequence ?? i,
                    })],
                })],
        };
        return (recording, null);
    }

    public static Projection Project(Recording r) => new(
        r.RecordId,
        r.MeetingId,
        r.InternalMeetingId,
        r.TenantId,
        r.Name,
        r.Published,
        r.State,
        Micros(r.StartTime),
        Micros(r.EndTime),
        r.Participants,
        r.Protected,
        r.PublishUpdated,
        r.DeletedAt is { } deleted ? Micros(deleted) : null,
        [.. r.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new[] { m.Key, m.Value })],
        [.. r.Formats.OrderBy(f => f.Format, StringComparer.Ordinal).Select(f => new FormatProjection(
            f.Format,
            f.Url,
            f.Duration,
            f.ProcessingTime,
            [.. f.Thumbnails.OrderBy(t => t.Sequence).ThenBy(t => t.Url, StringComparer.Ordinal)
                .Select(t => new ThumbnailProjection(t.Sequence, t.Url, t.Width, t.Height, t.Alt))]))]);

    /// <summary>Makes <paramref name="target"/> carry what <paramref name="source"/> carries, changing rows in place.</summary>
    /// <remarks>Metadata and formats are matched by key and name and changed in place, because their unique indexes
    /// would refuse a new row inserted beside the one it replaces within the same save.</remarks>
    public static void Apply(Recording target, Recording source, DateTimeOffset now)
    {
        target.MeetingId = source.MeetingId;
        target.InternalMeetingId = source.InternalMeetingId;
        target.TenantId = source.TenantId;
        target.Name = source.Name;
        target.Published = source.Published;
        target.State = source.State;
        target.StartTime = source.StartTime;
        target.EndTime = source.EndTime;
        target.Participants = source.Participants;
        target.Protected = source.Protected;
        target.PublishUpdated = source.PublishUpdated;
        target.DeletedAt = source.DeletedAt;
        target.UpdatedAt = now;

        target.Metadata.RemoveAll(m => !source.Metadata.Exists(s => s.Key == m.Key));
        foreach (var wanted in source.Metadata)
        {
            if (target.Metadata.Find(m => m.Key == wanted.Key) is { } existing)
            {
                existing.Value = wanted.Value;
            }
            else
            {
                target.Metadata.Add(new RecordingMetadata { Key = wanted.Key, Value = wanted.Value });
            }
        }

        target.Formats.RemoveAll(f => !source.Formats.Exists(s => s.Format == f.Format));
        foreach (var wanted in source.Formats)
        {
            var format = target.Formats.Find(f => f.Format == wanted.Format);
            if (format is null)
            {
                target.Formats.Add(wanted);
                continue;
            }

            format.Url = wanted.Url;
            format.Duration = wanted.Duration;
            format.ProcessingTime = wanted.ProcessingTime;
            format.Thumbnails.Clear();
            format.Thumbnails.AddRange(wanted.Thumbnails);
        }
    }

    private static DateTimeOffset? Utc(DateTime? time) => time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    private static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
}
