using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Meetings.History;

/// <summary>One meeting ID's story: every meeting that ran under it, newest first.</summary>
public sealed record MeetingStory(string Tenant, string MeetingId, IReadOnlyList<MeetingRun> Runs);

/// <summary>One meeting a server ran under the meeting ID (one internalMeetingID), from its create to its recordings.</summary>
public sealed record MeetingRun(
    string InternalMeetingId,
    string? ServerId,
    string? ServerHost,
    string? Origin,
    DateTimeOffset? CreatedAt,
    IReadOnlyList<HistoryCandidate> Candidates,
    int Joins,
    DateTimeOffset? FirstJoinAt,
    DateTimeOffset? LastJoinAt,
    DateTimeOffset? EndedAt,
    string? EndedBy,
    string? EndDetail,
    IReadOnlyList<RecordingRun> Recordings);

/// <summary>A recording of the meeting: when it was listed, and how long after the meeting ended.</summary>
public sealed record RecordingRun(string RecordId, IReadOnlyList<string> Formats, DateTimeOffset ImportedAt, DateTimeOffset? MeetingEndedAt, double? ImportDelaySeconds);

/// <summary>Reads the meeting history for the operator API (<c>GET /api/v1/meetings/history</c>) and <c>scalelite meetings show</c>.</summary>
public sealed class MeetingHistoryQuery(IDbContextFactory<ScaleliteDbContext> databases)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The story of a meeting ID; null when the history holds nothing of it.</summary>
    public async Task<MeetingStory?> FindAsync(string tenant, string meetingId, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var rows = await db.MeetingHistory.AsNoTracking()
            .Where(h => h.TenantId == tenant && h.MeetingId == meetingId)
            .ToListAsync(ct);
        var recordings = await db.MeetingHistoryRecordings.AsNoTracking()
            .Where(r => r.TenantId == tenant && r.MeetingId == meetingId)
            .OrderBy(r => r.ImportedAt)
            .ToListAsync(ct);
        if (rows.Count == 0 && recordings.Count == 0)
        {
            return null;
        }

        var byMeeting = recordings.ToLookup(r => r.InternalMeetingId, StringComparer.Ordinal);
        var runs = rows.Select(h => new MeetingRun(
                h.InternalMeetingId, h.ServerId, h.ServerHost, h.Origin, h.CreatedAt, Candidates(h.Candidates), h.Joins, h.FirstJoinAt, h.LastJoinAt,
                h.EndedAt, h.EndedBy, h.EndDetail, [.. byMeeting[h.InternalMeetingId].Select(View)]))
            .ToList();

        // Recordings of a meeting the history never saw (created before it existed, or pruned first) still belong to the story.
        var known = rows.Select(h => h.InternalMeetingId).ToHashSet(StringComparer.Ordinal);
        runs.AddRange(byMeeting.Where(g => !known.Contains(g.Key)).Select(g => new MeetingRun(
            g.Key, null, null, null, null, [], 0, null, null, g.First().MeetingEndedAt, null, null, [.. g.Select(View)])));

        return new MeetingStory(tenant, meetingId, [.. runs.OrderByDescending(r => r.CreatedAt ?? r.EndedAt ?? DateTimeOffset.MinValue)]);
    }

    private static RecordingRun View(MeetingHistoryRecording r) => new(r.RecordId, r.Formats, r.ImportedAt, r.MeetingEndedAt, r.ImportDelaySeconds);

    private static List<HistoryCandidate> Candidates(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<HistoryCandidate>>(json, Json) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
