using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.Core.Coordination;

namespace Scalelite.Core.Monitoring.Canary;

public static class CanaryServiceExtensions
{
    /// <summary>The synthetic canary: its rounds every <c>CANARY_INTERVAL</c>, and its alert check. The poller calls it.</summary>
    public static IServiceCollection AddCanary(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddOptions<CanaryOptions>().BindConfiguration(CanaryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CanaryMetrics>();
        services.AddSingleton<CanaryProbe>();
        services.AddSingleton<CanaryResults>();
        services.AddSingleton<CanaryRunner>();
        services.TryAddSingleton<IPoolLeadership, SoleInstance>();
        services.AddHostedService<CanaryService>();
        services.AddSingleton<IAlertCheck, CanaryAlertCheck>();
        return services;
    }
}
