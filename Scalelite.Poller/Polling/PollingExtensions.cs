using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Persistence;

namespace Scalelite.Poller.Polling;

public static class PollingExtensions
{
    /// <summary>The poll cycle and its parts; the timer that runs it (<see cref="PollerService"/>) is added by the host.</summary>
    public static IServiceCollection AddPolling(this IServiceCollection services)
    {
        services.AddSingleton<ServerRecords>();
        services.AddSingleton<SplitMeetings>();
        services.AddSingleton<PollCycle>();
        services.TryAddSingleton<PollTracker>();
        // A PostgreSQL outage is logged once by ServerRecords, not as EF Core's stack trace per failed query.
        services.ConfigureDbContext<ScaleliteDbContext>(o => o.LogFailuresAtCaller());
        return services;
    }
}
