using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Meetings;
using Scalelite.Core.Pool;
using Scalelite.Core.State;

namespace Scalelite.Api.Meetings;

/// <summary>Finds the server that owns a meeting.</summary>
/// <remarks>
/// Normally answered from memory (<see cref="MeetingOwnerCache"/>) or one Redis lookup. When Redis has lost its data (restart, FLUSHALL) and the poller has not yet
/// rebuilt it, a miss is not trusted: the reachable servers are asked in parallel, and the one that has the
/// meeting is recorded as its owner again. That is what keeps joins reaching the right server.
/// </remarks>
public sealed class MeetingLocator(
    MeetingRegistry registry,
    MeetingOwnerCache owners,
    IServerDirectory directory,
    BbbClient client,
    MeetingEvents events,
    TimeProvider time,
    IOptions<ScaleliteOptions> options,
    IOptions<BackendOptions> backend)
{
    public enum Outcome { Found, NotFound, Unavailable }

    /// <summary>The longest <see cref="HealAsync"/> waits on servers: all are asked at once, each with the fan-out timeout.</summary>
    public TimeSpan LongestHeal => backend.Value.FanOut;

    public async Task<(Outcome Outcome, ServerSnapshot? Server)> LocateAsync(string tenantId, string meetingId, CancellationToken ct)
    {
        var serverId = await owners.FindServerIdAsync(tenantId, meetingId);
        if (serverId is not null)
        {
            var server = await directory.ResolveAsync(serverId, ct);
            if (server is null)
            {
                // The server was deleted (the database says so, not just this replica's snapshot): its meetings went with it.
                owners.Invalidate(tenantId, meetingId);
                await registry.ForgetAsync(tenantId, meetingId);
                return (Outcome.NotFound, null);
            }

            return server.Reachable ? (Outcome.Found, server) : (Outcome.Unavailable, server);
        }

        if (await registry.IsAuthoritativeAsync())
        {
            return (Outcome.NotFound, null);
        }

        var healed = await HealAsync(tenantId, meetingId, ct);
        return healed is null ? (Outcome.NotFound, null) : (Outcome.Found, healed);
    }

    /// <summary>Asks every reachable server whether it holds the meeting; records and returns the first that does.</summary>
    public async Task<ServerSnapshot?> HealAsync(string tenantId, string meetingId, CancellationToken ct)
    {
        var servers = directory.All.Where(s => s.Reachable).ToList();
        if (servers.Count == 0)
        {
            return null;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var parameters = new BbbParameters().Add("meetingID", meetingId);
        var pending = servers.Select(async s => (Server: s, Response: await client.GetAsync(s, "getMeetingInfo", parameters, backend.Value.FanOut, cts.Token))).ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            var (server, response) = await done;
            if (response.IsSuccess)
            {
                if (options.Value.MultitenancyEnabled && Core.Tenancy.MeetingTenant.Of(response.Xml?.Root) is var holder && holder != tenantId)
                {
                    // Another tenant's meeting of that ID: recorded as theirs (so a create of the ID sees it), not found for this one.
                    var at = long.TryParse(response.Element("createTime"), out var t) ? DateTimeOffset.FromUnixTimeMilliseconds(t) : time.GetUtcNow();
                    await registry.AdoptAsync(holder, meetingId, server.Id, at, response.Element("internalMeetingID"), TimeSpan.FromSeconds(options.Value.MeetingTtl), response.Element("voiceBridge"));
                    continue;
                }

                await cts.CancelAsync();
                var created = long.TryParse(response.Element("createTime"), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : time.GetUtcNow();
                var internalId = response.Element("internalMeetingID");
                if (await registry.AdoptAsync(tenantId, meetingId, server.Id, created, internalId, TimeSpan.FromSeconds(options.Value.MeetingTtl), response.Element("voiceBridge")))
                {
                    events.Adopted(MeetingIdentity.On(server, tenantId, meetingId, internalId), created, "found running on its server while Redis had lost it");
                }

                var owner = await registry.FindServerIdAsync(tenantId, meetingId);
                return directory.Find(owner ?? server.Id) ?? server;
            }
        }

        return null;
    }
}
