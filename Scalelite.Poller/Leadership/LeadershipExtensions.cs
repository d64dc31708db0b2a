using Scalelite.Core.Monitoring;

namespace Scalelite.Poller.Leadership;

public static class LeadershipExtensions
{
    /// <summary>The leader election that lets several Poller instances run with one polling; its role is a health check's data.</summary>
    public static IServiceCollection AddPollerLeadership(this IServiceCollection services)
    {
        services.AddSingleton<PollerLeadership>();
        services.AddSingleton<IAlertEvaluationGate, LeaderEvaluatesAlerts>();
        services.AddHealthChecks().AddCheck<PollerLeadership>(PollerLeadership.HealthCheckName, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return services;
    }
}
