using Scalelite.Core.Bbb;
using Scalelite.Core.Pool;
using Scalelite.Core.State;

namespace Scalelite.Poller.Polling;

/// <summary>A meeting a server runs that the registry does not file under it: adopted when it has no owner, ended when it is a stale copy.</summary>
/// <remarks>
/// <para>A server that goes offline loses its meetings in the registry, so that an LMS can re-create them elsewhere.
/// If it comes back with its copies still running (a network partition, a hung process that recovers), one meeting ID
/// runs on two servers. The rule: <b>the registry's owner is the meeting</b>. Joins and forwarded calls go to it,
/// getMeetings lists its copy only (<c>Api/Meetings/MeetingList.cs</c>), and the copy elsewhere is stale. The stale
/// copy is left alone while anyone is still in it (ending it would throw them out, and nobody new can reach it through
/// the pool), and ended at the first poll that sees it empty.</para>
/// <para>A meeting with no owner at all is not stale: it is adopted, as after a Redis loss. A create placed while a
/// poll is out is recorded before the poll reads the registry or wins the adoption, so it is never taken for a stale
/// copy of itself.</para>
/// </remarks>
public sealed partial class SplitMeetings(MeetingRegistry registry, BbbClient client, ILogger<SplitMeetings> logger)
{
    /// <summary>Adopts <paramref name="meeting"/> for <paramref name="server"/> if nobody owns it; ends it there if another server does and it is empty.</summary>
    public async Task AdoptOrEndAsync(ServerSnapshot server, ObservedMeeting meeting, TimeSpan ttl)
    {
        var tenantId = meeting.TenantId ?? string.Empty;
        if (await registry.AdoptAsync(tenantId, meeting.MeetingId, server.Id, meeting.CreatedAt, meeting.InternalMeetingId, ttl, meeting.VoiceBridge)
            || meeting.Participants > 0)
        {
            return;
        }

        var owner = await registry.FindServerIdAsync(tenantId, meeting.MeetingId);
        if (owner is null || owner == server.Id)
        {
            return;
        }

        var ended = await client.GetAsync(server, "end", new BbbParameters().Add("meetingID", meeting.MeetingId));
        if (ended.IsSuccess)
        {
            Log.Ended(logger, meeting.Member, server.Id, owner);
        }
        else
        {
            Log.EndFailed(logger, meeting.Member, server.Id, ended.Error ?? ended.MessageKey);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Ended the stale copy of meeting {MeetingKey} on server {ServerId}: it is empty, and server {OwnerId} owns the meeting")]
        public static partial void Ended(ILogger logger, string meetingKey, string serverId, string ownerId);

        [LoggerMessage(LogLevel.Warning, "Could not end the stale copy of meeting {MeetingKey} on server {ServerId} ({Error}); the next poll tries again")]
        public static partial void EndFailed(ILogger logger, string meetingKey, string serverId, string? error);
    }
}
