namespace Scalelite.Core.Monitoring;

public enum AlertSeverity { Warning, Critical }

/// <summary>One condition a check finds true now (before hysteresis).</summary>
public sealed record AlertCondition(
    string Alert,        // stable id, e.g. "poll-stale", "canary"
    string Subject,      // "server:<id>", "directory:<path>", "component:redis", ...
    AlertSeverity Severity,
    double Value,
    double Threshold,
    string Message);     // one line: what to look at

public interface IAlertCheck
{
    /// <summary>The alert id(s) this check owns, e.g. "canary".</summary>
    IReadOnlyList<string> Alerts { get; }
    ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken);
}
