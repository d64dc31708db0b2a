using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.State;

namespace Scalelite.Poller.Polling;

/// <summary>One pass over the whole pool: probe every server in parallel, judge health, record load, reconcile meetings.</summary>
/// <remarks>
/// <para>Each probe carries its own timeout, so a hung server costs the cycle at most that timeout and never
/// delays the verdict on the others. PostgreSQL gets the durable record (state, health, observations) in
/// one save; Redis gets the load ranking and meeting ownership. A server going offline has its meetings
/// forgotten so that the next create places them elsewhere; live meetings are not migrated.</para>
/// <para>At pool scale the cycle's own cost is Redis round trips, not the probes: the reservations and the
/// registered meetings of every server are read in two pipelined batches once the probes are in, and then every
/// server's writes are issued together (the multiplexer pipelines them) instead of one server after the other.
/// The load is written by <see cref="LoadRanking.SettleAsync(string, double, double, bool, IReadOnlyCollection{string}, IReadOnlyCollection{string})"/>,
/// which adds the seats of creates placed after the reservations were read, so a poll never erases a reservation
/// it did not see.</para>
/// </remarks>
public sealed partial class PollCycle(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    ServerProbe probe,
    HealthPolicy health,
    LoadCalculator load,
    LoadRanking ranking,
    MeetingRegistry registry,
    TimeProvider time,
    IOptions<PollerOptions> options,
    IOptions<LoadOptions> loadOptions,
    IOptions<ScaleliteOptions> scalelite,
    ILogger<PollCycle> logger,
    ServerEventLog events)
{
    public static readonly Meter Meter = new("Scalelite.Poller");
    private static readonly Histogram<double> CycleSeconds = Meter.CreateHistogram<double>("scalelite.poller.cycle.duration", "s", "Time one poll cycle took.");
    private static readonly Counter<long> ProbeFailures = Meter.CreateCounter<long>("scalelite.poller.probe.failures", description: "Failed server polls.");
    private static readonly Counter<long> Transitions = Meter.CreateCounter<long>("scalelite.poller.server.transitions", description: "Servers going online or offline.");

    public async Task RunAsync(CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var cycleStart = time.GetUtcNow();
        var epoch = await registry.BeginCycleAsync();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var servers = await db.Servers.ToListAsync(ct);

        var probes = await Task.WhenAll(servers.Select(s => probe.ProbeAsync(ServerSnapshot.From(s), s.BbbVersion is null, ct)));

        var probeStates = servers.Select(s => (s.Online, s.State)).ToList();

        // Read after the probes, so that every reservation a probe's answer could already reflect is seen.
        var ids = servers.Select(s => s.Id).ToList();
        var reservationsRead = ranking.ReservationsAsync(ids);
        var registeredRead = registry.ServerMeetingsAsync(ids);
        var reservations = await reservationsRead;
        var registered = await registeredRead;

        var complete = true;
        var context = new CycleContext(cycleStart, cycleStart - TimeSpan.FromSeconds(options.Value.ReconcileGrace), TimeSpan.FromSeconds(scalelite.Value.MeetingTtl));
        var writes = new Task[servers.Count];
        for (var i = 0; i < servers.Count; i++)
        {
            writes[i] = ApplyAsync(servers[i], probes[i], reservations[servers[i].Id], registered[i], context);
            complete &= probes[i].Success || !servers[i].Online;
        }

        await Task.WhenAll(writes);

        // The DbContext is not shared across threads: events are added once every server's work is done.
        for (var i = 0; i < servers.Count; i++)
        {
            RecordLifecycleEvents(db, servers[i], before: probeStates[i], probes[i]);
        }

        // Which server runs which recorded meeting: retiring a server waits for those recordings to arrive.
        var recorded = servers.Zip(probes)
            .SelectMany(p => p.Second.Meetings.Where(m => m.Recording && m.InternalMeetingId.Length > 0)
                .Select(m => (p.First.Id, m.MeetingId, m.InternalMeetingId)))
            .ToList();
        await Scalelite.Core.Recordings.RecordedMeetings.TrackAsync(db, recorded, cycleStart, ct);

        await SaveAsync(db, ct);
        await DrainAsync(db, servers, probes, ct);
        if (complete)
        {
            // Every reachable server's meetings are now in the registry: a miss can be trusted again.
            await registry.MarkAuthoritativeAsync(epoch);
        }

        CycleSeconds.Record(time.GetElapsedTime(started).TotalSeconds);
    }

    private sealed record CycleContext(DateTimeOffset Start, DateTimeOffset Cutoff, TimeSpan MeetingTtl);

    private async Task ApplyAsync(
        Server server, ProbeResult result, IReadOnlyDictionary<string, SeatReservation> reservations, IReadOnlyList<string> registered, CycleContext cycle)
    {
        var before = new HealthState(server.Online, server.HealthyCounter, server.UnhealthyCounter);
        var after = health.Next(before, result.Success);
        server.Online = after.Online;
        server.HealthyCounter = after.HealthyCounter;
        server.UnhealthyCounter = after.UnhealthyCounter;
        server.LastPolledAt = cycle.Start;
        server.LastPollError = result.Error is { Length: > 1000 } e ? e[..1000] : result.Error;

        var settle = (Accounted: new List<string>(), Drop: new List<string>(), Hint: 0.0);
        if (result.Success)
        {
            var pending = SortReservations(result.Meetings, reservations, cycle.Cutoff, settle.Accounted, settle.Drop);
            var observed = load.Observe(result.Meetings, server.LoadMultiplier, reservations, pending);
            server.Meetings = observed.Meetings;
            server.Users = observed.Users;
            server.LargestMeeting = observed.LargestMeeting;
            server.Videos = observed.Videos;
            server.Load = after.Online ? observed.Load : null;
            settle.Hint = observed.HintLoad;
            server.BbbVersion = result.BbbVersion ?? server.BbbVersion;
            // A cordoned server that runs nothing is drained; the state change itself is made after the save, and
            // only if the operator has not changed the state meanwhile (see DrainAsync).
        }
        else
        {
            ProbeFailures.Add(1);
            Log.ProbeFailed(logger, server.Id, result.Error);
        }

        var tasks = new List<Task>(2);
        if (before.Online && !after.Online)
        {
            Transitions.Add(1, new KeyValuePair<string, object?>("to", "offline"));
            server.Load = null;
            server.Meetings = server.Users = server.LargestMeeting = server.Videos = 0;
            tasks.Add(ForgetServerAsync(server.Id, result.Error));
        }
        else if (!before.Online && after.Online)
        {
            Transitions.Add(1, new KeyValuePair<string, object?>("to", "online"));
            Log.CameOnline(logger, server.Id);
        }

        if (result.Success && after.Online)
        {
            tasks.Add(ReconcileAsync(server.Id, result.Meetings, registered, cycle));
        }

        var placeable = server.Online && server.State == ServerState.Enabled && server.Load is not null;
        if (result.Success || !placeable)
        {
            tasks.Add(ranking.SettleAsync(server.Id, server.Load ?? 0, settle.Hint, placeable, settle.Accounted, settle.Drop));
        }

        // A failed probe of a server still online leaves its ranking as the creates since the last poll made it.
        await Task.WhenAll(tasks);
    }

    /// <summary>
    /// Sorts a server's reservations: those of reported meetings are counted with them, those of meetings placed
    /// after the cutoff that the server did not report yet are pending (counted whole), the rest (faded, or of
    /// creates that never reached the server) are dropped. Returns the pending ones.
    /// </summary>
    private List<SeatReservation> SortReservations(
        IReadOnlyList<ObservedMeeting> reported, IReadOnlyDictionary<string, SeatReservation> reservations, DateTimeOffset cutoff, List<string> accounted, List<string> drop)
    {
        var pending = new List<SeatReservation>();
        if (reservations.Count == 0)
        {
            return pending;
        }

        var reportedKeys = new HashSet<string>(reported.Select(m => m.Member), StringComparer.Ordinal);
        var buffer = TimeSpan.FromMinutes(loadOptions.Value.JoinBufferTime);
        var now = time.GetUtcNow();
        foreach (var (member, reservation) in reservations)
        {
            var young = now - reservation.PlacedAt < buffer;
            if (young && reportedKeys.Contains(member))
            {
                accounted.Add(member);
            }
            else if (young && reservation.PlacedAt > cutoff)
            {
                accounted.Add(member);
                pending.Add(reservation);
            }
            else
            {
                drop.Add(member);
            }
        }

        return pending;
    }

    private async Task ForgetServerAsync(string serverId, string? error)
    {
        var forgotten = await registry.ForgetServerAsync(serverId);
        Log.WentOffline(logger, serverId, forgotten.Count, error);
    }

    /// <summary>Lifecycle: the audit trail gets the poller's own changes (online, offline, a drain completed).</summary>
    private void RecordLifecycleEvents(ScaleliteDbContext db, Server server, (bool Online, ServerState State) before, ProbeResult result)
    {
        if (before.Online != server.Online)
        {
            events.Add(db, server.Id, server.Online ? ServerActions.Online : ServerActions.Offline, "poller", server.Online ? null : result.Error, server.State, server.State);
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
                events.Add(db, server.Id, ServerActions.Drained, "poller", "cordoned and no meetings left", ServerState.Cordoned, ServerState.Disabled);
                await ranking.RemoveAsync(server.Id);
                Log.Drained(logger, server.Id);
                drained = true;
            }
        }

        if (drained)
        {
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>Saves the cycle's observations; a server deleted while the probes were out is skipped, not fatal.</summary>
    private static async Task SaveAsync(ScaleliteDbContext db, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException ex) when (attempt < 3)
            {
                foreach (var entry in ex.Entries)
                {
                    entry.State = EntityState.Detached;
                }
            }
        }
    }

    /// <summary>
    /// Brings the registry in line with what the server reports: meetings it no longer runs are forgotten
    /// (unless placed after the poll began, so a create in flight is never undone), and meetings it runs
    /// that the registry lacks (after a Redis loss) are adopted.
    /// </summary>
    private async Task ReconcileAsync(string serverId, IReadOnlyList<ObservedMeeting> reported, IReadOnlyList<string> registered, CycleContext cycle)
    {
        var reportedKeys = new HashSet<string>(reported.Select(m => m.Member), StringComparer.Ordinal);
        var stale = registered.Where(m => !reportedKeys.Contains(m)).ToList();
        var known = new HashSet<string>(registered, StringComparer.Ordinal);
        var work = new List<Task>(stale.Count + reported.Count);
        // The registry's Lua re-checks owner and placement time at the moment it runs, so a meeting placed or
        // re-placed since SMEMBERS was read survives even though it is in this list.
        work.AddRange(stale.Select(member => registry.ForgetIfStaleAsync(member, serverId, cycle.Cutoff)));
        work.AddRange(reported.Select(meeting => known.Contains(meeting.Member)
            ? registry.TouchAsync(meeting.Member, cycle.MeetingTtl)
            : registry.AdoptAsync(meeting.TenantId ?? string.Empty, meeting.MeetingId, serverId, meeting.CreatedAt, meeting.InternalMeetingId, cycle.MeetingTtl, meeting.VoiceBridge)));
        await Task.WhenAll(work);
        if (stale.Count > 0)
        {
            await registry.PruneServerSetAsync(serverId, stale);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Server {ServerId} poll failed: {Error}")]
        public static partial void ProbeFailed(ILogger logger, string serverId, string? error);

        [LoggerMessage(LogLevel.Warning, "Server {ServerId} is offline; forgot its {Count} meetings ({Error})")]
        public static partial void WentOffline(ILogger logger, string serverId, int count, string? error);

        [LoggerMessage(LogLevel.Information, "Server {ServerId} is online")]
        public static partial void CameOnline(ILogger logger, string serverId);

        [LoggerMessage(LogLevel.Information, "Server {ServerId} was cordoned and has no meetings left: disabled")]
        public static partial void Drained(ILogger logger, string serverId);
    }
}
