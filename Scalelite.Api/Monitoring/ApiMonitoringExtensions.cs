using Scalelite.Api.Apis;
using Scalelite.Core.Monitoring;

namespace Scalelite.Api.Monitoring;

public static class ApiMonitoringExtensions
{
    /// <summary>The API's outcome counters, their flush into the pool-wide alert rates, and the alert store the operator API reads.</summary>
    public static IHostApplicationBuilder AddApiMonitoring(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddMonitoringStore();
        builder.Services.AddSingleton(sp => new ApiOutcomes(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), BbbApi.CallNames));
        builder.Services.AddSingleton<OutcomeRates>();
        builder.Services.AddSingleton<OutcomeFlusher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutcomeFlusher>());
        return builder;
    }
}
