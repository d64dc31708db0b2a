using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Persistence;
using Scalelite.Core.State;

namespace Scalelite.Poller.Polling;

public static class PollingExtensions
{
    /// <summary>The poll cycle and its parts; the timer that runs it (<see cref="PollerService"/>) is added by the host.</summary>
    public static IServiceCollection AddPolling(this IServiceCollection services)
    {
        services.AddSingleton<ServerRecords>();
        services.AddSingleton<SplitMeetings>();
        services.AddSingleton<MeetingReconciliation>();
        services.AddSingleton(sp =>
        {
            var cycle = ActivatorUtilities.CreateInstance<PollCycle>(sp);
            // What the cycles during a Redis outage could not write there is republished by the next one after it.
            sp.GetRequiredService<IRedisBreaker>().OnRecovery(cycle.RedisReturned);
            return cycle;
        });
        services.TryAddSingleton<PollTracker>();
        // A PostgreSQL outage is logged once by ServerRecords, not as EF Core's stack trace per failed query.
        services.ConfigureDbContext<ScaleliteDbContext>(o => o.LogFailuresAtCaller());
        return services;
    }
}
