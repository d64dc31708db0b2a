using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scalelite.Core.Coordination;
using Scalelite.Core.Monitoring.Checks;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Monitoring;

public static class MonitoringExtensions
{
    /// <summary>The alert thresholds and the PostgreSQL store of alerts and reports: for every service.</summary>
    public static IServiceCollection AddMonitoringStore(this IServiceCollection services)
    {
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<MonitoringStore>();
        return services;
    }

    /// <summary>
    /// The evaluator with every check of ours, its gauges, and the poll tracker the checks read; nothing runs it (tests
    /// call <see cref="AlertEvaluator.EvaluateAsync"/>). Further checks are added as <see cref="IAlertCheck"/> singletons.
    /// </summary>
    public static IServiceCollection AddAlertEvaluation(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddMonitoringStore();
        services.TryAddSingleton<PollTracker>();
        services.TryAddSingleton<OutcomeRates>();
        services.TryAddSingleton<DependencyMetrics>();
        services.AddSingleton<IAlertCheck, PollStaleCheck>();
        services.AddSingleton<IAlertCheck, ServerOfflineCheck>();
        services.AddSingleton<IAlertCheck, ApiRateCheck>();
        services.AddSingleton<IAlertCheck, PlacementImbalanceCheck>();
        services.AddSingleton<IAlertCheck, PostgresCheck>();
        services.AddSingleton<IAlertCheck, RedisCheck>();
        services.AddSingleton<IAlertCheck, RecordingChecks>();
        services.AddSingleton<IAlertCheck, CapacityHeadroomCheck>();
        services.TryAddSingleton<AlertEvaluator>();
        services.TryAddSingleton<PollerGauges>();
        return services;
    }

    /// <summary>
    /// The evaluator running every <c>Alerts__EvaluationInterval</c> in this service, its alerts on <c>/health</c>
    /// (<see cref="AlertHealthCheck"/>) and as <c>scalelite.alerts.active</c>. The poller calls it: the evaluator runs
    /// where the poll cycle runs.
    /// </summary>
    public static IHostApplicationBuilder AddAlerting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAlertEvaluation();
        builder.Services.TryAddSingleton<IPoolLeadership, SoleInstance>();
        builder.Services.AddHostedService<AlertEvaluatorService>();
        builder.Services.AddHealthChecks().AddCheck<AlertHealthCheck>(AlertHealthCheck.Name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}

/// <summary>
/// Evaluates the alerts every <see cref="AlertOptions.EvaluationInterval"/>, once the database is migrated, while this
/// instance leads the pool (<see cref="IPoolLeadership"/>): with several pollers, only the one that polls has cycles to
/// judge, and the others would overwrite its stored alerts with a stale view.
/// </summary>
/// <remarks>
/// An instance that does not lead stands down: no active alerts of its own (so its <c>/health</c> does not call a follower
/// stuck) and an empty poll tracker (so its gauges do not repeat an old picture of the pool). When it evaluates again,
/// the time without a cycle counts from then.
/// </remarks>
public sealed partial class AlertEvaluatorService(
    AlertEvaluator evaluator, PollerGauges gauges, PollTracker tracker, DatabaseMigrator migrator, IOptions<AlertOptions> options, TimeProvider time,
    IPoolLeadership leadership, ILogger<AlertEvaluatorService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Resolved for its instruments: they read the evaluator and the poll tracker whenever metrics are collected.
        _ = gauges;
        await migrator.Migrated.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.Evaluation, time);
        var evaluating = true;
        do
        {
            if (!leadership.IsLeading)
            {
                if (evaluating)
                {
                    evaluator.StandDown();
                    tracker.Reset();
                    evaluating = false;
                }

                continue;
            }

            if (!evaluating)
            {
                tracker.Resumed();
                evaluating = true;
            }

            try
            {
                await evaluator.EvaluateAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.EvaluationFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Error, "Alert evaluation failed")]
        public static partial void EvaluationFailed(ILogger logger, Exception ex);
    }
}
