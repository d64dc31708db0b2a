using Scalelite.Core.Monitoring;

namespace Scalelite.Api.Apis;

/// <summary><c>GET /api/v1/alerts</c>: the active alerts as the evaluator (in the poller) last stored them.</summary>
public static class OperatorAlerts
{
    public static async Task<IResult> List(MonitoringStore store, TimeProvider time, CancellationToken ct)
    {
        var (alerts, evaluatedAt) = await store.ReadAlertsAsync(ct);
        return TypedResults.Ok(new AlertsView(
            evaluatedAt, evaluatedAt is { } at ? Math.Round((time.GetUtcNow() - at).TotalSeconds, 1) : null,
            [.. alerts.Select(a => new AlertView(a.Alert, a.Subject, a.SeverityName, a.Since, a.Value, a.Threshold, a.Message))]));
    }
}

/// <param name="EvaluatedAt">When the evaluator last stored its alerts; null when it never ran. A large
/// <paramref name="EvaluatedSecondsAgo"/> means the poller (and with it the evaluator) is not running.</param>
public sealed record AlertsView(DateTimeOffset? EvaluatedAt, double? EvaluatedSecondsAgo, IReadOnlyList<AlertView> Alerts);

public sealed record AlertView(string Alert, string Subject, string Severity, DateTimeOffset Since, double Value, double Threshold, string Message);
