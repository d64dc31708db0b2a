namespace Scalelite.Core.Monitoring;

/// <summary>An alert that is raised: what its check last found, and since when.</summary>
public sealed record ActiveAlert(
    string Alert, string Subject, AlertSeverity Severity, DateTimeOffset Since, double Value, double Threshold, string Message, DateTimeOffset LastTrueAt)
{
    /// <summary>The severity as stored and shown: <c>warning</c> or <c>critical</c>.</summary>
    public string SeverityName => Severity == AlertSeverity.Critical ? "critical" : "warning";

    public static AlertSeverity ParseSeverity(string value) =>
        string.Equals(value, "critical", StringComparison.OrdinalIgnoreCase) ? AlertSeverity.Critical : AlertSeverity.Warning;
}

public enum AlertChangeKind { Raised, SeverityChanged, Cleared }

public sealed record AlertChange(AlertChangeKind Kind, ActiveAlert Alert);

/// <summary>The active alerts and the one rule by which they are raised and cleared.</summary>
/// <remarks>
/// An alert is raised by the first evaluation that finds its condition true, keyed by alert id and subject; while
/// it holds, each evaluation updates its value, threshold, message and severity. It clears only once its condition has
/// held false for the hysteresis period (counted from the last evaluation that found it true), so a condition that
/// flaps around its threshold raises one alert, not one per flap. An alert whose check could not be evaluated (the
/// check failed, e.g. its store is down) is left as it is: not knowing is not the condition being false. Pure: the
/// caller logs and stores the changes.
/// </remarks>
public sealed class AlertBook
{
    private readonly Dictionary<(string Alert, string Subject), ActiveAlert> _active = [];

    public IReadOnlyList<ActiveAlert> Active =>
        [.. _active.Values.OrderByDescending(a => a.Severity).ThenBy(a => a.Alert, StringComparer.Ordinal).ThenBy(a => a.Subject, StringComparer.Ordinal)];

    /// <summary>Takes over alerts raised before (by an earlier process), as stored.</summary>
    public void Restore(IEnumerable<ActiveAlert> alerts)
    {
        foreach (var alert in alerts)
        {
            _active[(alert.Alert, alert.Subject)] = alert;
        }
    }

    /// <param name="conditions">Every condition found true now.</param>
    /// <param name="unevaluated">Alert ids whose check failed this time: their alerts stay as they are.</param>
    public IReadOnlyList<AlertChange> Apply(DateTimeOffset now, IEnumerable<AlertCondition> conditions, IReadOnlySet<string> unevaluated, TimeSpan hysteresis)
    {
        var changes = new List<AlertChange>();
        var seen = new HashSet<(string, string)>();
        foreach (var condition in conditions)
        {
            var key = (condition.Alert, condition.Subject);
            if (!seen.Add(key))
            {
                // Two findings for one subject this time: the worse one stands.
                if (condition.Severity > _active[key].Severity)
                {
                    _active[key] = _active[key] with { Severity = condition.Severity, Value = condition.Value, Threshold = condition.Threshold, Message = condition.Message };
                }

                continue;
            }

            if (_active.TryGetValue(key, out var existing))
            {
                var updated = existing with
                {
                    Severity = condition.Severity, Value = condition.Value, Threshold = condition.Threshold, Message = condition.Message, LastTrueAt = now,
                };
                _active[key] = updated;
                if (existing.Severity != condition.Severity)
                {
                    changes.Add(new AlertChange(AlertChangeKind.SeverityChanged, updated));
                }
            }
            else
            {
                var raised = new ActiveAlert(condition.Alert, condition.Subject, condition.Severity, now, condition.Value, condition.Threshold, condition.Message, now);
                _active[key] = raised;
                changes.Add(new AlertChange(AlertChangeKind.Raised, raised));
            }
        }

        foreach (var (key, alert) in _active.ToList())
        {
            if (seen.Contains(key) || unevaluated.Contains(alert.Alert) || now - alert.LastTrueAt < hysteresis)
            {
                continue;
            }

            _active.Remove(key);
            changes.Add(new AlertChange(AlertChangeKind.Cleared, alert));
        }

        return changes;
    }
}
