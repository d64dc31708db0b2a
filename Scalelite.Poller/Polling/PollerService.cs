using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.State;
using Scalelite.Poller.Leadership;

namespace Scalelite.Poller.Polling;

/// <summary>
/// Runs a <see cref="PollCycle"/> every <c>POLL_INTERVAL</c>, once the database is migrated, while this instance leads
/// (<see cref="PollerLeadership"/>).
/// </summary>
public sealed partial class PollerService(
    PollCycle cycle, PollerLeadership leadership, DatabaseMigrator migrator, IRedisBreaker breaker, IOptions<PollerOptions> options, TimeProvider time, ILogger<PollerService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrator.Migrated.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.Interval), time);
        do
        {
            if (await leadership.ConfirmAsync(stoppingToken) is not { } leading)
            {
                continue;
            }

            using var both = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leading);
            try
            {
                await cycle.RunAsync(both.Token);
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                // Leadership was lost mid-cycle: the cycle stops here, the next tick asks for the lock again.
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && breaker.Trips(ex))
            {
                // Neither store's outage fails a cycle (its Redis steps are best effort, and PostgreSQL's absence is
                // covered by ServerRecords); should one slip through, the breaker logs it once, not each cycle.
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.CycleFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Error, "Poll cycle failed")]
        public static partial void CycleFailed(ILogger logger, Exception ex);
    }
}
