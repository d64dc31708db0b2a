using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Meetings;
using Scalelite.Core.Pool;
using Scalelite.Core.State;
using StackExchange.Redis;

namespace Scalelite.Api.Meetings;

/// <summary>Finds the server that owns a meeting.</summary>
/// <remarks>
/// Normally answered from memory (<see cref="MeetingOwnerCache"/>) or one Redis lookup. When Redis has lost its data (restart, FLUSHALL) and the poller has not yet
/// rebuilt it, a miss is not trusted: the reachable servers are asked in parallel, and the one that has the
/// meeting is recorded as its owner again. That is what keeps joins reaching the right server.
/// <para>While Redis is down (<see cref="IRedisBreaker"/> open) it is not asked at all: the owner is the one this
/// replica remembers, however old (no change of owner can be recorded meanwhile), or one it placed meanwhile
/// (<see cref="OwnershipBacklog"/>); else the servers are asked as above, one fan-out per meeting however many
/// joins wait for it, and the answer is remembered. The join path pays one field read for this while Redis is up.</para>
/// </remarks>
public sealed class MeetingLocator(
    MeetingRegistry registry,
    MeetingOwnerCache owners,
    OwnershipBacklog backlog,
    IServerDirectory directory,
    BbbClient client,
    IRedisBreaker breaker,
    MeetingEvents events,
    TimeProvider time,
    IOptions<ScaleliteOptions> options,
    IOptions<BackendOptions> backend)
{
    public enum Outcome { Found, NotFound, Unavailable }

    // One fan-out per meeting at a time while Redis is down: the class of 300 joining at once waits for the first.
    private readonly ConcurrentDictionary<string, Lazy<Task<(ServerSnapshot Server, BackendResponse Info)?>>> _asking = new(StringComparer.Ordinal);

    /// <summary>The longest <see cref="HealAsync"/> waits on servers: all are asked at once, each with the fan-out timeout.</summary>
    public TimeSpan LongestHeal => backend.Value.FanOut;

    public async Task<(Outcome Outcome, ServerSnapshot? Server)> LocateAsync(string tenantId, string meetingId, CancellationToken ct)
    {
        if (!breaker.IsOpen)
        {
            try
            {
                var serverId = await owners.FindServerIdAsync(tenantId, meetingId);
                if (serverId is not null)
                {
                    var server = await directory.ResolveAsync(serverId, ct);
                    if (server is null)
                    {
                        // The server was deleted (the database says so, not just this replica's snapshot): its meetings went with it.
                        await ForgetAsync(tenantId, meetingId);
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
            catch (Exception ex) when (breaker.Trips(ex))
            {
            }
        }

        var record = await FindWithoutRedisAsync(tenantId, meetingId, ct);
        if (record is null)
        {
            return (Outcome.NotFound, null);
        }

        var owner = await directory.ResolveAsync(record.ServerId, ct);
        if (owner is null)
        {
            await ForgetAsync(tenantId, meetingId);
            return (Outcome.NotFound, null);
        }

        return owner.Reachable ? (Outcome.Found, owner) : (Outcome.Unavailable, owner);
    }

    /// <summary>Asks every reachable server whether it holds the meeting; records and returns the first that does.</summary>
    public async Task<ServerSnapshot?> HealAsync(string tenantId, string meetingId, CancellationToken ct)
    {
        if (await AskServersAsync(tenantId, meetingId, ct) is not { } found)
        {
            return null;
        }

        var (server, response) = found;

        var created = long.TryParse(response.Element("createTime"), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : time.GetUtcNow();
        var internalId = response.Element("internalMeetingID");
        if (await registry.AdoptAsync(tenantId, meetingId, server.Id, created, internalId, TimeSpan.FromSeconds(options.Value.MeetingTtl), response.Element("voiceBridge")))
        {
            events.Adopted(MeetingIdentity.On(server, tenantId, meetingId, internalId), created, "found running on its server while Redis had lost it");
        }

        var owner = await registry.FindServerIdAsync(tenantId, meetingId);
        return directory.Find(owner ?? server.Id) ?? server;
    }

    /// <summary>
    /// The owner of a meeting without asking Redis: one this replica placed while Redis was down, else the one it
    /// remembers, else the server that answers that it runs the meeting (then remembered). Null when none does.
    /// </summary>
    public async Task<MeetingRecord?> FindWithoutRedisAsync(string tenantId, string meetingId, CancellationToken ct)
    {
        if (backlog.Find(tenantId, meetingId) is { } placed)
        {
            return placed;
        }

        if (owners.Remembered(tenantId, meetingId) is { } remembered)
        {
            return new MeetingRecord(tenantId, meetingId, remembered, time.GetUtcNow());
        }

        var member = MeetingRegistry.MeetingKey(tenantId, meetingId);
        var asking = _asking.GetOrAdd(member, _ => new Lazy<Task<(ServerSnapshot, BackendResponse)?>>(() => AskServersAsync(tenantId, meetingId, CancellationToken.None)));
        (ServerSnapshot Server, BackendResponse Info)? found;
        try
        {
            found = await asking.Value.WaitAsync(ct);
        }
        finally
        {
            _asking.TryRemove(KeyValuePair.Create(member, asking));
        }

        if (found is not { } answer)
        {
            return null;
        }

        var (server, info) = answer;

        owners.Remember(tenantId, meetingId, server.Id);
        var created = long.TryParse(info.Element("createTime"), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : time.GetUtcNow();
        return new MeetingRecord(tenantId, meetingId, server.Id, created, info.Element("internalMeetingID"), info.Element("voiceBridge"));
    }

    /// <summary>
    /// The meeting's internal ID as the registry holds it, for the meeting's story in the logs; while Redis is down, as
    /// this replica placed it. Null when unknown.
    /// </summary>
    public async Task<string?> InternalMeetingIdAsync(string tenantId, string meetingId)
    {
        if (!breaker.IsOpen)
        {
            try
            {
                return (await registry.FindAsync(tenantId, meetingId))?.InternalMeetingId;
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
            }
        }

        return backlog.Find(tenantId, meetingId)?.InternalMeetingId;
    }

    /// <summary>
    /// The owner as far as it is known without asking the servers: the registry's, or while Redis is down the one this
    /// replica placed or remembers. Null when there is none, or Redis refused the lookup.
    /// </summary>
    public async Task<string?> KnownOwnerAsync(string tenantId, string meetingId)
    {
        if (!breaker.IsOpen)
        {
            try
            {
                return await registry.FindServerIdAsync(tenantId, meetingId);
            }
            catch (Exception ex) when (breaker.Trips(ex) || ex is RedisException)
            {
            }
        }

        return backlog.Find(tenantId, meetingId)?.ServerId ?? owners.Remembered(tenantId, meetingId);
    }

    /// <summary>
    /// The running meeting that holds a voice bridge number (dial-in), and its owner: the registry's one-trip lookup;
    /// while Redis is down a meeting this replica placed meanwhile, else the servers' own lists (getMeetings, all asked
    /// at once). <paramref name="fallback"/> is tried when <paramref name="number"/> leads to no meeting.
    /// </summary>
    public async Task<VoiceBridgeHolder?> FindByVoiceBridgeAsync(string number, string? fallback, CancellationToken ct)
    {
        if (!breaker.IsOpen)
        {
            try
            {
                return await registry.FindByVoiceBridgeAsync(number, fallback);
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
            }
        }

        if ((backlog.FindByVoiceBridge(number) ?? (fallback is null ? null : backlog.FindByVoiceBridge(fallback))) is { } placed)
        {
            return new VoiceBridgeHolder(placed.TenantId, placed.MeetingId, placed.ServerId);
        }

        var servers = directory.All.Where(s => s.Reachable).ToList();
        var answers = await Task.WhenAll(servers.Select(s => client.GetAsync(s, "getMeetings", new BbbParameters(), backend.Value.FanOut, ct)));
        var meetings = servers.Zip(answers)
            .SelectMany(a => a.Second.IsSuccess ? a.Second.Xml!.Descendants("meeting").Select(m => (Server: a.First, Meeting: m)) : [])
            .ToList();
        foreach (var wanted in fallback is null ? [number] : new[] { number, fallback })
        {
            if (meetings.Find(m => m.Meeting.Element("voiceBridge")?.Value == wanted) is { Server: { } server } match
                && match.Meeting.Element("meetingID")?.Value is { } meetingId)
            {
                return new VoiceBridgeHolder(Core.Tenancy.Tenant.DefaultId, meetingId, server.Id);
            }
        }

        return null;
    }

    /// <summary>Keeps the owner of a meeting placed while Redis could not record it, until it can (<see cref="OwnershipBacklog"/>).</summary>
    public void RememberPlaced(MeetingRecord record) => backlog.Add(record);

    /// <summary>Whether a meeting placed here while Redis was down has this voice bridge number.</summary>
    public bool HoldsVoiceBridge(string number) => backlog.HoldsVoiceBridge(number);

    /// <summary>Forgets a meeting's owner: on this replica at once, and in Redis unless it is down (then the poller forgets it once its server no longer runs it).</summary>
    public async Task ForgetAsync(string tenantId, string meetingId)
    {
        owners.Invalidate(tenantId, meetingId);
        backlog.Remove(tenantId, meetingId);
        if (!breaker.IsOpen)
        {
            try
            {
                await registry.ForgetAsync(tenantId, meetingId);
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
            }
        }
    }

    /// <summary>
    /// Asks every reachable server for the meeting at once; the first that runs it for this tenant, with its
    /// getMeetingInfo answer (with multitenancy, another tenant's meeting of that ID is not this tenant's).
    /// </summary>
    private async Task<(ServerSnapshot Server, BackendResponse Info)?> AskServersAsync(string tenantId, string meetingId, CancellationToken ct)
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
                    await AdoptForAsync(holder, meetingId, server, response);
                    continue;
                }

                await cts.CancelAsync();
                return (server, response);
            }
        }

        return null;
    }

    /// <summary>Records another tenant's meeting found on a server; skipped while Redis is down (its creates then find it on the server).</summary>
    private async Task AdoptForAsync(string holder, string meetingId, ServerSnapshot server, BackendResponse response)
    {
        if (breaker.IsOpen)
        {
            return;
        }

        try
        {
            var at = long.TryParse(response.Element("createTime"), out var t) ? DateTimeOffset.FromUnixTimeMilliseconds(t) : time.GetUtcNow();
            await registry.AdoptAsync(holder, meetingId, server.Id, at, response.Element("internalMeetingID"), TimeSpan.FromSeconds(options.Value.MeetingTtl), response.Element("voiceBridge"));
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
        }
    }
}
