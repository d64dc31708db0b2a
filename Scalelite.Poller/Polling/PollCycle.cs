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
/// Each probe carries its own timeout, so a hung server costs the cycle at most that timeout and never
/// delays the verdict on the others. PostgreSQL gets the durable record (state, health, observations) in
/// one save; Redis gets the load ranking and meeting ownership. A server going offline has its meetings
/// forgotten so that the next create places them elsewhere; live meetings are not migrated.
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
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var servers = await db.Servers.ToListAsync(ct);

        var probes = await Task.WhenAll(servers.Select(s => probe.ProbeAsync(ServerSnapshot.From(s), s.BbbVersion is null, ct)));

        var probeStates = servers.Select(s => (s.Online, s.State)).ToList();
        var complete = true;
        var meetingTtl = TimeSpan.FromSeconds(scalelite.Value.MeetingTtl);
        for (var i = 0; i < servers.Count; i++)
        {
            var server = servers[i];
            var result = probes[i];
            await ApplyAsync(server, result, cycleStart, meetingTtl);
            RecordLifecycleEvents(db, server, before: probeStates[i], result);
            complete &= result.Success || !server.Online;
        }

        await db.SaveChangesAsync(ct);
        if (complete)
        {
            // Every reachable server's meetings are now in the registry: a miss can be trusted again.
            await registry.MarkAuthoritativeAsync();
        }

        CycleSeconds.Record(time.GetElapsedTime(started).TotalSeconds);
    }

    private async Task ApplyAsync(Server server, ProbeResult result, DateTimeOffset cycleStart, TimeSpan meetingTtl)
    {
        var before = new HealthState(server.Online, server.HealthyCounter, server.UnhealthyCounter);
        var after = health.Next(before, result.Success);
        server.Online = after.Online;
        server.HealthyCounter = after.HealthyCounter;
        server.UnhealthyCounter = after.UnhealthyCounter;
        server.LastPolledAt = cycleStart;
        server.LastPollError = result.Error is { Length: > 1000 } e ? e[..1000] : result.Error;

        if (result.Success)
        {
            var observed = load.Observe(result.Meetings, server.LoadMultiplier);
            server.Meetings = observed.Meetings;
            server.Users = observed.Users;
            server.LargestMeeting = observed.LargestMeeting;
            server.Videos = observed.Videos;
            server.Load = after.Online ? observed.Load : null;
            server.BbbVersion = result.BbbVersion ?? server.BbbVersion;
            if (server.State == ServerState.Cordoned && observed.Meetings == 0)
            {
                server.State = ServerState.Disabled;
                Log.Drained(logger, server.Id);
            }

            if (after.Online)
            {
                await ReconcileAsync(server.Id, result.Meetings, cycleStart, meetingTtl);
            }
        }
        else
        {
            ProbeFailures.Add(1);
            Log.ProbeFailed(logger, server.Id, result.Error);
        }

        if (before.Online && !after.Online)
        {
            Transitions.Add(1, new KeyValuePair<string, object?>("to", "offline"));
            var forgotten = await registry.ForgetServerAsync(server.Id);
            Log.WentOffline(logger, server.Id, forgotten.Count, result.Error);
            server.Load = null;
            server.Meetings = server.Users = server.LargestMeeting = server.Videos = 0;
        }
        else if (!before.Online && after.Online)
        {
            Transitions.Add(1, new KeyValuePair<string, object?>("to", "online"));
            Log.CameOnline(logger, server.Id);
        }

        if (server.Online && server.State == ServerState.Enabled && server.Load is { } observedLoad)
        {
            await ranking.SetAsync(server.Id, observedLoad);
        }
        else
        {
            await ranking.RemoveAsync(server.Id);
        }
    }

    /// <summary>Lifecycle: the audit trail gets the poller's own changes (online, offline, a drain completed).</summary>
    private void RecordLifecycleEvents(ScaleliteDbContext db, Server server, (bool Online, ServerState State) before, ProbeResult result)
    {
        if (before.Online != server.Online)
        {
            events.Add(db, server.Id, server.Online ? ServerActions.Online : ServerActions.Offline, "poller", server.Online ? null : result.Error, server.State, server.State);
        }

        if (before.State == ServerState.Cordoned && server.State == ServerState.Disabled)
        {
            events.Add(db, server.Id, ServerActions.Drained, "poller", "cordoned and no meetings left", before.State, server.State);
        }
    }

    /// <summary>
    /// Brings the registry in line with what the server reports: meetings it no longer runs are forgotten
    /// (unless placed after the poll began, so a create in flight is never undone), and meetings it runs
    /// that the registry lacks (after a Redis loss) are adopted.
    /// </summary>
    private async Task ReconcileAsync(string serverId, IReadOnlyList<ObservedMeeting> reported, DateTimeOffset cycleStart, TimeSpan meetingTtl)
    {
        var reportedKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var meeting in reported)
        {
            var member = MeetingRegistry.MeetingKey(meeting.TenantId ?? string.Empty, meeting.MeetingId);
            reportedKeys.Add(member);
        }

        var registered = await registry.ServerMeetingsAsync(serverId);
        var cutoff = cycleStart - TimeSpan.FromSeconds(options.Value.ReconcileGrace);
        var stale = registered.Where(m => !reportedKeys.Contains(m)).ToList();
        foreach (var member in stale)
        {
            await registry.ForgetIfStaleAsync(member, serverId, cutoff);
        }

        await registry.PruneServerSetAsync(serverId, stale);

        var known = new HashSet<string>(registered, StringComparer.Ordinal);
        await Task.WhenAll(reported.Select(meeting =>
        {
            var member = MeetingRegistry.MeetingKey(meeting.TenantId ?? string.Empty, meeting.MeetingId);
            return known.Contains(member)
                ? registry.TouchAsync(member, meetingTtl)
                : registry.AdoptAsync(meeting.TenantId ?? string.Empty, meeting.MeetingId, serverId, meeting.CreatedAt, meeting.InternalMeetingId, meetingTtl);
        }));
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
