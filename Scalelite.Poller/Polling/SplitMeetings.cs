using Scalelite.Core.Bbb;
using Scalelite.Core.Meetings;
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
public sealed partial class SplitMeetings(MeetingRegistry registry, BbbClient client, MeetingEvents events, ILogger<SplitMeetings> logger)
{
    /// <summary>Adopts <paramref name="meeting"/> for <paramref name="server"/> if nobody owns it; ends it there if another server does and it is empty.</summary>
    public async Task AdoptOrEndAsync(ServerSnapshot server, ObservedMeeting meeting, TimeSpan ttl)
    {
        var tenantId = meeting.TenantId ?? string.Empty;
        var identity = MeetingIdentity.On(server, tenantId, meeting.MeetingId, meeting.InternalMeetingId);
        if (await registry.AdoptAsync(tenantId, meeting.MeetingId, server.Id, meeting.CreatedAt, meeting.InternalMeetingId, ttl, meeting.VoiceBridge))
        {
            events.Adopted(identity, meeting.CreatedAt, "the poller found it running and nobody owned it");
            return;
        }

        if (meeting.Participants > 0)
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
            events.Ended(identity, MeetingEndCause.StaleCopy, $"it was empty, and server {owner} owns the meeting");
        }
        else
        {
            Log.EndFailed(logger, ended.Error ?? ended.MessageKey, identity.MeetingId, identity.InternalMeetingId ?? string.Empty, server.Id, identity.ServerHost!, tenantId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Could not end a stale copy of a meeting ({error}); the next poll tries again; meetingID={meetingID} internalMeetingID={internalMeetingID} serverId={serverId} serverHost={serverHost} tenant={tenant}")]
        public static partial void EndFailed(ILogger logger, string? error, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);
    }
}
