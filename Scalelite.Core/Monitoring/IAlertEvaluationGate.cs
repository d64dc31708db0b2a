namespace Scalelite.Core.Monitoring;

/// <summary>
/// Whether this instance evaluates the alerts now. Where several poller instances run, only the one that polls does:
/// the others have no cycles to judge and would overwrite the leader's alerts with a stale view. Without a gate the
/// evaluator always runs.
/// </summary>
public interface IAlertEvaluationGate
{
    bool Evaluates { get; }
}
