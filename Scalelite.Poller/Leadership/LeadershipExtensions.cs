using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalelite.Core.Coordination;

namespace Scalelite.Poller.Leadership;

public static class LeadershipExtensions
{
    /// <summary>The leader election that lets several Poller instances run with one polling; its role is a health check's data.</summary>
    public static IServiceCollection AddPollerLeadership(this IServiceCollection services)
    {
        services.AddSingleton<PollerLeadership>();
        services.Replace(ServiceDescriptor.Singleton<IPoolLeadership>(sp => sp.GetRequiredService<PollerLeadership>()));
        services.AddHealthChecks().AddCheck<PollerLeadership>(PollerLeadership.HealthCheckName, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return services;
    }
}
