using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Health;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.State;

namespace Scalelite.Poller.Polling;

/// <summary>One pass over the whole pool: probe every server in parallel, judge health, record load, reconcile meetings.</summary>
/// <remarks>
/// <para>Each probe carries its own timeout, so a hung server costs the cycle at most that timeout and never
/// delays the verdict on the others. The probe is <see cref="ServerProbe"/>, its result takes effect through
/// <see cref="ServerHealth"/> (hysteresis, going offline, the audit trail) and the load through
/// <see cref="LoadCalculator.Settle"/>; this class only puts them in order. PostgreSQL gets the durable record
/// (state, health, observations) in one save; Redis gets the load ranking and meeting ownership (reconciled with what
/// each server reports by <see cref="MeetingReconciliation"/>). While PostgreSQL
/// does not answer, the cycle goes on with the servers as the last cycle left them and publishes its verdicts through
/// Redis instead (<see cref="ServerRecords"/>), so health is never judged blind.</para>
/// <para>At pool scale the cycle's own cost is Redis round trips, not the probes: the reservations and the
/// registered meetings of every server are read in two pipelined batches once the probes are in, and then every
/// server's writes are issued together (the multiplexer pipelines them) instead of one server after the other.
/// The load is written by <see cref="LoadRanking.SettleAsync(string, double, double, bool, IReadOnlyCollection{string}, IReadOnlyCollection{string})"/>,
/// which adds the seats of creates placed after the reservations were read, so a poll never erases a reservation
/// it did not see.</para>
/// <para><b>While Redis is down</b> (<see cref="IRedisBreaker"/> open, or a Redis step fails and opens it) every Redis
/// step is best effort and skipped: the cycle still probes, judges health and load from the probes alone (no
/// reservations are known, so none are counted) and writes PostgreSQL, so a server that dies meanwhile is offline on
/// the record and, through the record, in every API replica's snapshot. Ranking, ownership healing and the published
/// verdicts wait. When Redis answers again (the breaker's recovery calls <see cref="RedisReturned"/>) the next cycle
/// republishes: every server's load is settled as in any cycle (an offline one leaves the ranking), and the meetings
/// of every offline server are forgotten in the registry, since a server that went offline during the outage could
/// not have its meetings forgotten then. A cycle that could not reconcile every server does not mark the registry
/// authoritative.</para>
/// </remarks>
public sealed partial class PollCycle(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    ServerProbe probe,
    ServerHealth health,
    LoadCalculator load,
    LoadRanking ranking,
    MeetingRegistry registry,
    TimeProvider time,
    IOptions<PollerOptions> options,
    IOptions<ScaleliteOptions> scalelite,
    ILogger<PollCycle> logger,
    ServerEventLog events,
    ServerRecords records,
    MeetingReconciliation reconciliation,
    Scalelite.Core.Tenancy.TenantUsageRecorder tenantUsage,
    IRedisBreaker breaker,
    PollTracker tracker)
{
    private const string Actor = "poller";

    public static readonly Meter Meter = new("Scalelite.Poller");
    private static readonly Histogram<double> CycleSeconds = Meter.CreateHistogram<double>("scalelite.poller.cycle.duration", "s", "Time one poll cycle took.");
    private static readonly Counter<long> ProbeFailures = Meter.CreateCounter<long>("scalelite.poller.probe.failures", description: "Failed server polls.");
    private static readonly Counter<long> Transitions = Meter.CreateCounter<long>("scalelite.poller.server.transitions", description: "Servers going online or offline.");

    private static readonly IReadOnlyDictionary<string, SeatReservation> NoReservations = new Dictionary<string, SeatReservation>();

    // Set when Redis returns: the next cycle that reaches it republishes what the outage kept from it.
    private int _republish;

    /// <summary>The breaker's recovery step: Redis answers again after an outage (see the remarks).</summary>
    public Task RedisReturned(CancellationToken ct)
    {
        Volatile.Write(ref _republish, 1);
        return Task.CompletedTask;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var cycleStart = time.GetUtcNow();
        var epoch = await RedisAsync(registry.BeginCycleAsync);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await records.LoadAsync(db, ct) is not { } polled)
        {
            return;
        }

        var servers = polled.Servers;

        var probes = await Task.WhenAll(servers.Select(s => probe.ProbeAsync(ServerSnapshot.From(s), wantVersion: s.BbbVersion is null, ct)));

        // Read after the probes, so that every reservation a probe's answer could already reflect is seen.
        var ids = servers.Select(s => s.Id).ToList();
        var redis = await RedisAsync(() => ReadRedisAsync(ids));
        var reservations = redis?.Reservations ?? ids.Distinct(StringComparer.Ordinal).ToDictionary(id => id, _ => NoReservations, StringComparer.Ordinal);
        var registered = redis?.Registered ?? [.. ids.Select(_ => (IReadOnlyList<string>)[])];

        // One server after the other on this thread, as the DbContext requires; each one's Redis work is left running,
        // and all of it is awaited together.
        var context = new CycleContext(cycleStart - TimeSpan.FromSeconds(options.Value.ReconcileGrace), TimeSpan.FromSeconds(scalelite.Value.MeetingTtl));
        var writes = new Task[servers.Count];
        for (var i = 0; i < servers.Count; i++)
        {
            writes[i] = ApplyAsync(db, servers[i], probes[i], reservations[servers[i].Id], registered[i], context, withRedis: redis is not null);
        }

        await Task.WhenAll(writes);
        if (redis is not null && Interlocked.Exchange(ref _republish, 0) == 1)
        {
            await ForgetOfflineAsync(servers);
        }

        // Which server runs which recorded meeting: retiring a server waits for those recordings to arrive.
        var recorded = servers.Zip(probes)
            .SelectMany(p => p.Second.Meetings.Where(m => m.Recording && m.InternalMeetingId.Length > 0)
                .Select(m => (p.First.Id, m.MeetingId, m.InternalMeetingId)))
            .ToList();
        if (await records.SaveAsync(db, polled, recorded, cycleStart, ct))
        {
            await DrainAsync(db, servers, probes, ct);
        }

        if (redis is not null && epoch is not null && servers.Zip(probes).All(p => p.Second.Success || !p.First.Online))
        {
            // Every server still online answered, so all their meetings are in the registry: a miss can be trusted again.
            await RedisAsync(async () => (object)await registry.MarkAuthoritativeAsync(epoch));
        }

        if (!breaker.IsOpen)
        {
            // The tenants' counts live in Redis: while it is down they wait for it, as the registry does.
            await tenantUsage.RecordAsync(probes, ct);
        }

        tracker.CycleFinished(servers, probes);
        CycleSeconds.Record(time.GetElapsedTime(started).TotalSeconds);
    }

    private sealed record CycleContext(DateTimeOffset Cutoff, TimeSpan MeetingTtl);

    private sealed record RedisView(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, SeatReservation>> Reservations, IReadOnlyList<IReadOnlyList<string>> Registered);

    private async Task<RedisView> ReadRedisAsync(IReadOnlyList<string> ids)
    {
        var reservations = ranking.ReservationsAsync(ids);
        var registered = registry.ServerMeetingsAsync(ids);
        return new RedisView(await reservations, await registered);
    }

    /// <summary>A Redis step of the cycle: skipped while the breaker is open, and null when Redis fails it (which opens the breaker).</summary>
    private async Task<T?> RedisAsync<T>(Func<Task<T>> step)
        where T : class
    {
        if (breaker.IsOpen)
        {
            return null;
        }

        try
        {
            return await step();
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            return null;
        }
    }

    /// <summary>After a Redis outage: forgets the meetings of every offline server, which going offline could not do meanwhile.</summary>
    private async Task ForgetOfflineAsync(List<Server> servers)
    {
        var offline = servers.Where(s => !s.Online).Select(s => s.Id).ToList();
        var forgotten = await RedisAsync(() => Task.WhenAll(offline.Select(registry.ForgetServerAsync)));
        if (forgotten is null)
        {
            // Redis failed again: its next recovery asks for this once more.
            return;
        }

        var count = forgotten.Sum(f => f.Count);
        if (count > 0)
        {
            Log.ForgotAfterOutage(logger, count, offline.Count);
        }
    }

    /// <summary>One server's share of the cycle: its verdict and load on the record, then its ranking and meetings in Redis.</summary>
    private async Task ApplyAsync(
        ScaleliteDbContext db, Server server, ProbeResult result, IReadOnlyDictionary<string, SeatReservation> reservations, IReadOnlyList<string> registered, CycleContext cycle,
        bool withRedis)
    {
        var settled = result.Success ? load.Settle(result.Meetings, server.LoadMultiplier, reservations, cycle.Cutoff) : null;
        if (!result.Success)
        {
            ProbeFailures.Add(1);
            Log.ProbeFailed(logger, server.Id, result.Error);
        }

        // Everything that touches the DbContext is done before this returns; what is awaited is Redis work.
        var change = await health.ApplyAsync(db, server, result, settled?.Observation, Actor);
        if (change.Changed)
        {
            Transitions.Add(1, new KeyValuePair<string, object?>("to", change.IsOnline ? "online" : "offline"));
        }

        if (!withRedis)
        {
            return;
        }

        var tasks = new List<Task>(2);
        if (result.Success && server.Online)
        {
            tasks.Add(reconciliation.ReconcileAsync(ServerSnapshot.From(server), result.Meetings, registered, cycle.Cutoff, cycle.MeetingTtl));
        }

        // A failed probe of a server still placeable leaves its ranking as the creates since the last poll made it.
        // A cordoned server that runs nothing is drained after the save (see DrainAsync).
        var placeable = server.Online && server.State == ServerState.Enabled && server.Load is not null;
        if (result.Success || !placeable)
        {
            tasks.Add(ranking.SettleAsync(server.Id, server.Load ?? 0, settled?.Observation.HintLoad ?? 0, placeable, settled?.Accounted ?? [], settled?.Dropped ?? []));
        }

        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            // Redis went away during the cycle: the record is saved all the same, and the cycles after its return
            // settle the ranking and heal ownership again.
        }
    }

    /// <summary>
    /// Disables the cordoned servers this cycle saw empty, each with a conditional update: an operator who enabled
    /// (or removed) the server while the probes were out wins over the poller's older view.
    /// </summary>
    private async Task DrainAsync(ScaleliteDbContext db, List<Server> servers, ProbeResult[] probes, CancellationToken ct)
    {
        var drained = false;
        for (var i = 0; i < servers.Count; i++)
        {
            var server = servers[i];
            if (server.State != ServerState.Cordoned || !probes[i].Success || server.Meetings != 0)
            {
                continue;
            }

            var changed = await db.Servers
                .Where(s => s.Id == server.Id && s.State == ServerState.Cordoned)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.State, ServerState.Disabled).SetProperty(s => s.UpdatedAt, time.GetUtcNow()), ct);
            if (changed == 1)
            {
                events.Add(db, server.Id, ServerActions.Drained, Actor, "cordoned and no meetings left", ServerState.Cordoned, ServerState.Disabled);
                // Best effort: while Redis is down, the first cycle that reaches it settles the disabled server out of the ranking.
                await RedisAsync(async () =>
                {
                    await ranking.RemoveAsync(server.Id);
                    return string.Empty;
                });
                Log.Drained(logger, server.Id);
                drained = true;
            }
        }

        if (drained)
        {
            await db.SaveChangesAsync(ct);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Server {ServerId} poll failed: {Error}")]
        public static partial void ProbeFailed(ILogger logger, string serverId, string? error);

        [LoggerMessage(LogLevel.Warning, "Redis answers again: forgot {Count} meetings of the {Servers} offline servers, which went offline or stayed so while it was down")]
        public static partial void ForgotAfterOutage(ILogger logger, int count, int servers);

        [LoggerMessage(LogLevel.Information, "Server {ServerId} was cordoned and has no meetings left: disabled")]
        public static partial void Drained(ILogger logger, string serverId);
    }
}
