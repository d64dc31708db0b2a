using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Scalelite.Core.Monitoring;

/// <summary>
/// The evaluating service's <c>/health</c>: Degraded while any alert is active (HTTP 200 still, so orchestrators keep
/// it), Unhealthy only for the one alert a restart can cure: no poll cycle finishing while PostgreSQL and Redis are
/// fine, which is the poller's own loop being stuck.
/// </summary>
/// <remarks>
/// An outage of a backend (a BBB server, PostgreSQL, Redis, the recording volume) is never Unhealthy here: restarting
/// the poller would not bring it back, and an orchestrator restarting it in a loop only adds to the trouble.
/// </remarks>
public sealed class AlertHealthCheck(AlertEvaluator evaluator) : IHealthCheck
{
    public const string Name = "alerts";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var alerts = evaluator.Current;
        if (alerts.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("no active alerts"));
        }

        var summary = string.Join("; ", alerts.Select(a => $"{a.Alert} {a.Subject} ({a.SeverityName})"));
        var stuck = alerts.Any(a => a is { Alert: AlertIds.PollStale, Subject: AlertIds.PollerSubject, Severity: AlertSeverity.Critical })
            && !alerts.Any(a => a.Alert is AlertIds.Postgres or AlertIds.Redis);
        return Task.FromResult(stuck ? HealthCheckResult.Unhealthy(summary) : HealthCheckResult.Degraded(summary));
    }
}

/// <summary>The stable alert ids and the subjects of components.</summary>
public static class AlertIds
{
    public const string PollStale = "poll-stale";
    public const string ServerOffline = "server-offline";
    public const string ApiErrors = "api-errors";
    public const string ChecksumErrors = "checksum-errors";
    public const string PlacementImbalance = "placement-imbalance";
    public const string Postgres = "postgres";
    public const string Redis = "redis";
    public const string RecordingVolume = "recording-volume";
    public const string RecordingImportDelay = "recording-import-delay";
    public const string RecordingQuarantine = "recording-quarantine";
    public const string JoinFailures = "join-failures";
    public const string CapacityHeadroom = "capacity-headroom";

    public const string PollerSubject = "component:poller";

    public static string Server(string id) => "server:" + id;

    public static string Directory(string path) => "directory:" + path;

    public static string Component(string name) => "component:" + name;
}
