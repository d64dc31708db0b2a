using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scalelite.Core.Coordination;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>
/// Runs a canary round every <c>CANARY_INTERVAL</c> (the first one interval after start); 0 turns it off. Only the
/// leading instance runs it, so several Pollers make one canary meeting per server, not one each.
/// </summary>
public sealed partial class CanaryService(CanaryRunner runner, IPoolLeadership leadership, DatabaseMigrator migrator, IOptions<CanaryOptions> options, TimeProvider time, ILogger<CanaryService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            Log.Off(logger);
            return;
        }

        await migrator.Migrated.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.Interval), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!leadership.IsLeading)
                {
                    continue;
                }

                try
                {
                    await runner.RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    Log.RoundFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "The canary is off (CANARY_INTERVAL=0)")]
        public static partial void Off(ILogger logger);

        [LoggerMessage(2, LogLevel.Error, "A canary round failed")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
