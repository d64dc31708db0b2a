using Scalelite.Core.Monitoring;

namespace Scalelite.Poller.Leadership;

/// <summary>The alerts are evaluated where the poll cycle runs: by the leading Poller instance, with or without PostgreSQL.</summary>
public sealed class LeaderEvaluatesAlerts(PollerLeadership leadership) : IAlertEvaluationGate
{
    public bool Evaluates => leadership.Role != PollerRole.Follower;
}
