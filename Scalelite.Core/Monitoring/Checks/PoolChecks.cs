using System.Globalization;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Capacity;

namespace Scalelite.Core.Monitoring.Checks;

/// <summary>
/// <c>poll-stale</c>: no poll cycle finished for 2 intervals (subject <c>component:poller</c>, critical), or a server
/// the poller still counts online has had no successful poll for 3 intervals (subject <c>server:ID</c>, warning).
/// </summary>
/// <remarks>
/// Servers already judged offline are <c>server-offline</c>'s; this one catches the polls that stopped telling the
/// truth: a cycle stuck or failing (Redis), or a server failing polls while a high unhealthy threshold keeps it online.
/// </remarks>
public sealed class PollStaleCheck(PollTracker tracker, IOptionsMonitor<PollerOptions> poller, TimeProvider time) : IAlertCheck
{
    public IReadOnlyList<string> Alerts { get; } = [AlertIds.PollStale];

    public ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var interval = TimeSpan.FromSeconds(poller.CurrentValue.Interval);
        var found = new List<AlertCondition>();
        var sinceCycle = now - (tracker.LastCycleAt ?? tracker.StartedAt);
        if (sinceCycle > 2 * interval)
        {
            found.Add(new AlertCondition(AlertIds.PollStale, AlertIds.PollerSubject, AlertSeverity.Critical, sinceCycle.TotalSeconds, 2 * interval.TotalSeconds,
                $"No poll cycle finished for {sinceCycle.TotalSeconds:0} s (interval {interval.TotalSeconds:0} s): health and load are not being updated; look for 'Poll cycle failed' in the poller's log and check Redis."));
        }

        foreach (var server in tracker.Servers.Where(s => s.Online && s.State != ServerState.Disabled))
        {
            var age = now - (server.LastSuccessAt ?? tracker.StartedAt);
            if (age > 3 * interval)
            {
                found.Add(new AlertCondition(AlertIds.PollStale, AlertIds.Server(server.Id), AlertSeverity.Warning, age.TotalSeconds, 3 * interval.TotalSeconds,
                    $"{server.Url} has not answered a poll for {age.TotalSeconds:0} s but still counts online: check the server's last poll error ('scalelite servers list') and its nginx/bbb-web."));
            }
        }

        return ValueTask.FromResult<IReadOnlyList<AlertCondition>>(found);
    }
}

/// <summary><c>server-offline</c>: an enabled server the poller judged offline (critical when every enabled server is).</summary>
public sealed class ServerOfflineCheck(PollTracker tracker, IOptionsMonitor<PollerOptions> poller) : IAlertCheck
{
    public IReadOnlyList<string> Alerts { get; } = [AlertIds.ServerOffline];

    public ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var enabled = tracker.Servers.Where(s => s.State == ServerState.Enabled).ToList();
        var offline = enabled.Where(s => !s.Online).ToList();
        var severity = offline.Count == enabled.Count && enabled.Count > 0 ? AlertSeverity.Critical : AlertSeverity.Warning;
        IReadOnlyList<AlertCondition> found = [.. offline.Select(s => new AlertCondition(AlertIds.ServerOffline, AlertIds.Server(s.Id), severity,
            s.FailedPolls, poller.CurrentValue.UnhealthyThreshold,
            severity == AlertSeverity.Critical
                ? $"{s.Url} is offline, and so is every other enabled server: no meeting can be placed. Check the network between the poller and the servers."
                : $"{s.Url} is enabled but offline after {s.FailedPolls} failed polls: its meetings were forgotten. Check the server (bbb-conf --check) and its last poll error."))];
        return ValueTask.FromResult(found);
    }
}

/// <summary>
/// <c>placement-imbalance</c>: among online enabled servers with a declared capacity, the spread of load/capacity has
/// stayed above <see cref="AlertOptions.ImbalanceSpread"/> for <see cref="AlertOptions.ImbalanceDuration"/>.
/// </summary>
/// <remarks>
/// Placement sends each new meeting to the least loaded server, so a spread that lasts means meetings grew where they
/// were placed (a large class on a small node), or placement is not seeing the load (stale polls, wrong multipliers).
/// Cordoned and disabled servers are left out: a drain empties a server on purpose. Servers without a declared
/// capacity cannot be compared and are left out too.
/// </remarks>
public sealed class PlacementImbalanceCheck(PollTracker tracker, IOptionsMonitor<AlertOptions> options, TimeProvider time) : IAlertCheck
{
    private DateTimeOffset? _above;

    public IReadOnlyList<string> Alerts { get; } = [AlertIds.PlacementImbalance];

    public ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var servers = tracker.Servers
            .Where(s => s is { Online: true, State: ServerState.Enabled, Load: not null, Capacity: > 0 })
            .Select(s => (s.Id, Ratio: s.Load!.Value / s.Capacity!.Value))
            .OrderBy(s => s.Ratio)
            .ToList();
        var spread = servers.Count >= 2 ? servers[^1].Ratio - servers[0].Ratio : 0;
        if (spread <= o.ImbalanceSpread)
        {
            _above = null;
            return ValueTask.FromResult<IReadOnlyList<AlertCondition>>([]);
        }

        var now = time.GetUtcNow();
        _above ??= now;
        if (now - _above.Value < TimeSpan.FromSeconds(o.ImbalanceDuration))
        {
            return ValueTask.FromResult<IReadOnlyList<AlertCondition>>([]);
        }

        var (high, low) = (servers[^1], servers[0]);
        return ValueTask.FromResult<IReadOnlyList<AlertCondition>>(
        [
            new AlertCondition(AlertIds.PlacementImbalance, AlertIds.Component("placement"), AlertSeverity.Warning, spread, o.ImbalanceSpread,
                $"Load/capacity ranges from {Percent(low.Ratio)} ({low.Id}) to {Percent(high.Ratio)} ({high.Id}) for {(now - _above.Value).TotalSeconds:0} s: look for a large meeting on {high.Id}, its load multiplier and declared capacity."),
        ]);
    }

    private static string Percent(double ratio) => (ratio * 100).ToString("0", CultureInfo.InvariantCulture) + " %";
}

/// <summary><c>capacity-headroom</c>: the pool cannot lose its largest node (the N+1 report, <see cref="HeadroomCalculator"/>).</summary>
public sealed class CapacityHeadroomCheck(PollTracker tracker) : IAlertCheck
{
    public IReadOnlyList<string> Alerts { get; } = [AlertIds.CapacityHeadroom];

    public ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var report = HeadroomCalculator.Compute(tracker.Servers.Select(s => new Server
        {
            Id = s.Id, Url = s.Url, Secret = string.Empty, State = s.State, Online = s.Online, Users = s.Users, Capacity = s.Capacity,
        }));
        IReadOnlyList<AlertCondition> found = !report.Judged || report.SurvivesLargestLoss
            ? []
            : [new AlertCondition(AlertIds.CapacityHeadroom, AlertIds.Component("pool"), AlertSeverity.Warning, report.Used, report.CapacityWithoutLargest,
                $"{report.Summary}: add capacity or move load before the next peak ('scalelite headroom').")];
        return ValueTask.FromResult(found);
    }
}

/// <summary>
/// <c>api-errors</c>, <c>checksum-errors</c>, <c>join-failures</c>: the API replicas' bad outcomes per minute over the
/// rate window (<see cref="OutcomeRates"/>), each above its threshold. Subject <c>component:api</c>.
/// </summary>
public sealed class ApiRateCheck(OutcomeRates rates, IOptionsMonitor<AlertOptions> options) : IAlertCheck
{
    public IReadOnlyList<string> Alerts { get; } = [AlertIds.ApiErrors, AlertIds.ChecksumErrors, AlertIds.JoinFailures];

    public async ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var perMinute = await rates.PerMinuteAsync([OutcomeRates.ApiErrors, OutcomeRates.ChecksumErrors, OutcomeRates.JoinFailures], o.Window);
        var found = new List<AlertCondition>();
        Add(found, AlertIds.ApiErrors, perMinute[OutcomeRates.ApiErrors], o.ApiErrorsPerMinute,
            "FAILED answers caused by the pool (serverUnavailable, internalError) per minute: look at 'scalelite servers status' for offline servers and at the API's log for backend timeouts.");
        Add(found, AlertIds.ChecksumErrors, perMinute[OutcomeRates.ChecksumErrors], o.ChecksumErrorsPerMinute,
            "checksumError answers per minute: an LMS still signs with an old secret (after a rollover) or a wrong one; compare the LMS's secret with LOADBALANCER_SECRET.");
        Add(found, AlertIds.JoinFailures, perMinute[OutcomeRates.JoinFailures], o.JoinFailuresPerMinute,
            "joins answered FAILED per minute: see scalelite_api_join_outcomes_total by outcome (notFound: meetings lost or ended; serverUnavailable: offline servers).");
        return found;
    }

    private static void Add(List<AlertCondition> found, string alert, double rate, double threshold, string what)
    {
        if (rate > threshold)
        {
            found.Add(new AlertCondition(alert, AlertIds.Component("api"), rate > 10 * Math.Max(threshold, 1) ? AlertSeverity.Critical : AlertSeverity.Warning,
                rate, threshold, $"{rate:0.#} {what}"));
        }
    }
}
