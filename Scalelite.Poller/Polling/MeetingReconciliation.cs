using Scalelite.Core.Meetings;
using Scalelite.Core.Pool;
using Scalelite.Core.State;

namespace Scalelite.Poller.Polling;

/// <summary>Brings the registry in line with what one server reports, and tells the meetings' ends it finds.</summary>
/// <remarks>
/// Meetings the server no longer runs are forgotten, unless placed after the poll began (minus the grace for clock
/// skew), so a create in flight is never undone (Scalelite #320); each one forgotten is a meeting that ended on the
/// server (everyone left, or the node ended it), and is told as such with the internalMeetingID read just before.
/// Meetings the server runs that the registry lacks (after a Redis loss) are adopted, or ended when empty if another
/// server owns them (<see cref="SplitMeetings"/>).
/// </remarks>
public sealed class MeetingReconciliation(MeetingRegistry registry, SplitMeetings splits, MeetingEvents events)
{
    public async Task ReconcileAsync(
        ServerSnapshot server, IReadOnlyList<ObservedMeeting> reported, IReadOnlyList<string> registered, DateTimeOffset cutoff, TimeSpan meetingTtl)
    {
        var serverId = server.Id;
        var reportedKeys = new HashSet<string>(reported.Select(m => m.Member), StringComparer.Ordinal);
        var stale = registered.Where(m => !reportedKeys.Contains(m)).ToList();
        var known = new HashSet<string>(registered, StringComparer.Ordinal);
        var internalIds = await registry.InternalMeetingIdsAsync(stale);
        var work = new List<Task>(stale.Count + reported.Count);
        // The registry's Lua re-checks owner and placement time at the moment it runs, so a meeting placed or
        // re-placed since SMEMBERS was read survives even though it is in this list.
        work.AddRange(stale.Select(member => ForgetAsync(server, member, internalIds.GetValueOrDefault(member), cutoff)));
        work.AddRange(reported.Select(meeting => known.Contains(meeting.Member)
            ? registry.TouchAsync(meeting.Member, meetingTtl)
            : splits.AdoptOrEndAsync(server, meeting, meetingTtl)));
        await Task.WhenAll(work);
        if (stale.Count > 0)
        {
            await registry.PruneServerSetAsync(serverId, stale);
        }
    }

    private async Task ForgetAsync(ServerSnapshot server, string member, string? internalMeetingId, DateTimeOffset cutoff)
    {
        if (await registry.ForgetIfStaleAsync(member, server.Id, cutoff))
        {
            events.Ended(MeetingIdentity.FromKey(member, server, internalMeetingId), MeetingEndCause.DisappearedFromPoll);
        }
    }
}
