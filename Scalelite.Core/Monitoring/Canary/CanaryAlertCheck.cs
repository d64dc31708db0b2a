using Microsoft.Extensions.Options;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>The <c>canary</c> alert's condition: a server whose latest canary run failed (subject <c>server:&lt;id&gt;</c>).</summary>
/// <remarks>
/// Critical when the meeting could not be created or joined (the node cannot hold a class), a warning when only the
/// lookup or the end failed. The value is the number of failed runs in a row, the threshold one. A result older than
/// three intervals is no longer evidence (the canary could not run: PostgreSQL down, the poller stopped) and is left
/// out. Raising, hysteresis and clearing are the evaluator's.
/// </remarks>
public sealed class CanaryAlertCheck(CanaryResults results, IOptions<CanaryOptions> options, TimeProvider time) : IAlertCheck
{
    public const string Alert = "canary";

    public IReadOnlyList<string> Alerts { get; } = [Alert];

    public ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return ValueTask.FromResult<IReadOnlyList<AlertCondition>>([]);
        }

        var oldest = time.GetUtcNow() - TimeSpan.FromSeconds(3 * options.Value.Interval);
        IReadOnlyList<AlertCondition> conditions = [.. results.Latest
            .Where(s => s.Latest.Failure is not null && s.Latest.At >= oldest)
            .OrderBy(s => s.Latest.ServerId, StringComparer.Ordinal)
            .Select(Condition)];
        return ValueTask.FromResult(conditions);
    }

    public static AlertCondition Condition(CanaryStatus status)
    {
        var run = status.Latest;
        var failure = run.Failure!;
        var severity = failure.Step is CanaryProbe.Create or CanaryProbe.Join ? AlertSeverity.Critical : AlertSeverity.Warning;
        var trail = run.InternalMeetingId is { Length: > 0 } internalId ? $"internalMeetingID {internalId}" : $"meetingID {run.MeetingId}";
        return new AlertCondition(Alert, $"server:{run.ServerId}", severity, status.ConsecutiveFailures, 1,
            $"Canary {failure.Step} failed on {run.ServerHost} ({failure.Answer}); try a meeting on that node directly and search its logs for {trail}.");
    }
}
