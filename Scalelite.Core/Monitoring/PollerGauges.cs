using System.Diagnostics.Metrics;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Monitoring;

/// <summary>
/// The pool as the poller sees it, and the active alerts, as observable instruments (meter <c>Scalelite.Poller</c>):
/// read when something collects them, at no cost in between. Labels are server ids, alert ids and severities: bounded.
/// </summary>
public sealed class PollerGauges
{
    public const string MeterName = "Scalelite.Poller";

    private static readonly string[] Severities = ["warning", "critical"];

    public PollerGauges(IMeterFactory meters, PollTracker tracker, AlertEvaluator evaluator, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("scalelite.server.load", () => PerServer(tracker, s => s.Load), "{load}",
            "Each server's load as last polled (users weighted, times its multiplier); absent while unknown.");
        // The Prometheus exporter drops the unit "1" rather than writing "_ratio": the name carries it, so that the
        // scrape says scalelite_server_utilization_ratio as the rules and the dashboard expect.
        meter.CreateObservableGauge("scalelite.server.utilization.ratio",
            () => PerServer(tracker, s => s is { Load: { } load, Capacity: > 0 } ? load / s.Capacity.Value : null), "1",
            "Each server's load divided by its declared capacity; absent without a capacity.");
        meter.CreateObservableGauge("scalelite.server.capacity", () => PerServer(tracker, s => s.Capacity), "{user}",
            "Each server's declared capacity in users; absent when not declared.");
        meter.CreateObservableGauge("scalelite.server.users", () => PerServer(tracker, s => s.Users), "{user}", "Users on each server as last polled.");
        meter.CreateObservableGauge("scalelite.server.meetings", () => PerServer(tracker, s => s.Meetings), "{meeting}", "Meetings on each server as last polled.");
        meter.CreateObservableGauge("scalelite.server.online", () => PerServer(tracker, s => s.Online ? 1 : 0), description: "1 while the poller judges the server online.");
        meter.CreateObservableGauge("scalelite.server.enabled", () => PerServer(tracker, s => s.State == ServerState.Enabled ? 1 : 0),
            description: "1 while the server takes new meetings (enabled, not cordoned or disabled).");
        meter.CreateObservableGauge("scalelite.server.poll.age",
            () => PerServer(tracker, s => (time.GetUtcNow() - (s.LastSuccessAt ?? tracker.StartedAt)).TotalSeconds), "s",
            "Seconds since each server's last successful poll (since the poller started, when none yet).");
        meter.CreateObservableGauge("scalelite.poller.cycle.finished.timestamp",
            () => tracker.LastCycleAt is { } at ? [new Measurement<double>(at.ToUnixTimeMilliseconds() / 1000.0)] : Array.Empty<Measurement<double>>(), "s",
            "When the last poll cycle finished, in seconds since the Unix epoch.");
        meter.CreateObservableGauge("scalelite.alerts.active", () => Active(evaluator), "{alert}",
            "Active alerts by alert id and severity (0 for every known alert that is not active).");
    }

    private static IEnumerable<Measurement<double>> PerServer(PollTracker tracker, Func<PolledServer, double?> value)
    {
        foreach (var server in tracker.Servers)
        {
            if (value(server) is { } v)
            {
                yield return new Measurement<double>(v, new KeyValuePair<string, object?>("server", server.Id));
            }
        }
    }

    private static IEnumerable<Measurement<long>> Active(AlertEvaluator evaluator)
    {
        var active = evaluator.Current;
        foreach (var alert in evaluator.KnownAlerts.Union(active.Select(a => a.Alert)))
        {
            foreach (var severity in Severities)
            {
                yield return new Measurement<long>(active.Count(a => a.Alert == alert && a.SeverityName == severity),
                    new KeyValuePair<string, object?>("alert", alert), new KeyValuePair<string, object?>("severity", severity));
            }
        }
    }
}

/// <summary>Round trips and errors of the poller's PostgreSQL and Redis probes (meter <c>Scalelite.Poller</c>).</summary>
public sealed class DependencyMetrics
{
    private readonly Histogram<double> _postgres;
    private readonly Histogram<double> _redis;
    private long _postgresErrors;
    private long _redisErrors;

    public DependencyMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(PollerGauges.MeterName);
        _postgres = meter.CreateHistogram<double>("scalelite.postgres.roundtrip", "s", "Round trip of the evaluator's PostgreSQL probe.");
        _redis = meter.CreateHistogram<double>("scalelite.redis.roundtrip", "s", "Round trip of the evaluator's Redis probe (PING).");
        // Observable, so that the series exist (at 0) before the first error and rules can compute a rate.
        meter.CreateObservableCounter("scalelite.postgres.errors", () => Interlocked.Read(ref _postgresErrors), "{error}", "PostgreSQL probes that failed or timed out.");
        meter.CreateObservableCounter("scalelite.redis.errors", () => Interlocked.Read(ref _redisErrors), "{error}", "Redis probes that failed or timed out.");
    }

    public void Postgres(TimeSpan roundTrip) => _postgres.Record(roundTrip.TotalSeconds);

    public void Redis(TimeSpan roundTrip) => _redis.Record(roundTrip.TotalSeconds);

    public void PostgresFailed() => Interlocked.Increment(ref _postgresErrors);

    public void RedisFailed() => Interlocked.Increment(ref _redisErrors);
}
