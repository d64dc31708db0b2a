using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Lifecycle;

namespace Scalelite.Core.Recordings;

/// <summary>A meeting the poller saw running with recording on: its recording is expected to arrive from that server.</summary>
public sealed class RecordedMeeting
{
    public required string InternalMeetingId { get; set; }

    public required string MeetingId { get; set; }

    public required string ServerId { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }
}

/// <summary>
/// Remembers which server ran which recorded meeting, so that retiring a server can wait for its recordings.
/// </summary>
/// <remarks>
/// A BBB server publishes a recording minutes to hours after the meeting ends, and nothing in the archive names the
/// server. So the poller notes every meeting it sees running with <c>recording=true</c>, and a recording counts as
/// "still arriving" while no recording with that internal meeting id has been imported and the meeting was seen
/// within <c>Recording__ArrivalWindow</c>. A meeting recorded without any recording marks produces no recording at all;
/// the window is what lets such a server go without force.
/// </remarks>
public static class RecordedMeetings
{
    /// <summary>Upserts what one poll cycle saw, in one statement.</summary>
    public static Task TrackAsync(ScaleliteDbContext db, IReadOnlyCollection<(string ServerId, string MeetingId, string InternalMeetingId)> seen, DateTimeOffset now, CancellationToken ct)
    {
        if (seen.Count == 0)
        {
            return Task.CompletedTask;
        }

        var servers = seen.Select(s => s.ServerId).ToArray();
        var meetings = seen.Select(s => s.MeetingId).ToArray();
        var internals = seen.Select(s => s.InternalMeetingId).ToArray();
        return db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO recorded_meetings (internal_meeting_id, meeting_id, server_id, first_seen_at, last_seen_at)
            SELECT i, m, s, {now}, {now} FROM unnest({internals}, {meetings}, {servers}) AS t(i, m, s)
            ON CONFLICT (internal_meeting_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, server_id = EXCLUDED.server_id
            """, ct);
    }
}

/// <summary>A server whose recorded meetings have not all been imported yet may still be sending recordings.</summary>
public sealed class PendingRecordingsRemovalGuard(
    IDbContextFactory<ScaleliteDbContext> dbFactory, IOptions<RecordingOptions> options, TimeProvider time) : IRemovalGuard
{
    public async Task<string?> BlockingReasonAsync(Server server, CancellationToken ct)
    {
        var since = time.GetUtcNow() - options.Value.ArrivalWindowSpan;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var pending = await db.RecordedMeetings
            .Where(r => r.ServerId == server.Id && r.LastSeenAt >= since)
            .Where(r => !db.Recordings.Any(rec => rec.InternalMeetingId == r.InternalMeetingId))
            .CountAsync(ct);
        return pending > 0
            ? $"recordings of {pending} recorded meeting(s) may still be arriving from it (not imported yet; waits up to {options.Value.ArrivalWindow} h after the meeting was last seen)"
            : null;
    }
}
