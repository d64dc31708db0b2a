using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Monitoring;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Monitoring;

/// <summary>The evaluator with a scripted check: logging, storage, health and the restart of the process.</summary>
public sealed class AlertEvaluatorTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private sealed class ScriptedCheck : IAlertCheck
    {
        public List<AlertCondition> Now { get; } = [];

        public bool Throws { get; set; }

        public IReadOnlyList<string> Alerts { get; } = ["poll-stale", "redis"];

        public ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken) =>
            Throws ? throw new InvalidOperationException("store down") : ValueTask.FromResult<IReadOnlyList<AlertCondition>>([.. Now]);
    }

    private static readonly AlertCondition Stuck = new(AlertIds.PollStale, AlertIds.PollerSubject, AlertSeverity.Critical, 30, 20, "no cycle");
    private static readonly AlertCondition RedisDown = new(AlertIds.Redis, "component:redis", AlertSeverity.Critical, 5, 5, "redis down");

    private async Task<(AlertEvaluator Evaluator, ScriptedCheck Check, FakeTimeProvider Time, LogCapture Logs, MonitoringStore Store)> StartAsync(
        string? database = null, ScriptedCheck? check = null)
    {
        database ??= await infrastructure.CreateDatabaseAsync("alerts");
        await using (var db = TestDatabases.Context(database))
        {
            await db.Database.MigrateAsync();
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var logs = new LogCapture();
        var store = new MonitoringStore(TestDatabases.Factory(database));
        check ??= new ScriptedCheck();
        var evaluator = new AlertEvaluator([check], store, new StaticOptionsMonitor<AlertOptions>(new AlertOptions { ClearAfter = 60 }), time,
            LoggerFactory.Create(b => b.AddProvider(logs.For("poller"))).CreateLogger<AlertEvaluator>());
        return (evaluator, check, time, logs, store);
    }

    [Fact]
    public async Task EvaluateAsync_RaiseHoldClear_LogsOnceEach()
    {
        var (evaluator, check, time, logs, _) = await StartAsync();
        check.Now.Add(RedisDown);
        for (var i = 0; i < 4; i++)
        {
            await evaluator.EvaluateAsync(CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(15));
        }

        check.Now.Clear();
        for (var i = 0; i < 8; i++)
        {
            await evaluator.EvaluateAsync(CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(15));
        }

        var lines = logs.Entries.Where(e => e.Category.EndsWith(nameof(AlertEvaluator), StringComparison.Ordinal)).ToList();
        Assert.Single(lines, e => e.Message.Contains("Alert redis raised for component:redis (critical)", StringComparison.Ordinal) && e.Level == LogLevel.Error);
        Assert.Single(lines, e => e.Message.Contains("Alert redis cleared for component:redis", StringComparison.Ordinal));
        Assert.Empty(evaluator.Current);
    }

    [Fact]
    public async Task EvaluateAsync_StoresAlertsForTheApi_AndANewProcessTakesThemOver()
    {
        var database = await infrastructure.CreateDatabaseAsync("alerts");
        var (evaluator, check, _, _, store) = await StartAsync(database);
        check.Now.Add(RedisDown);
        await evaluator.EvaluateAsync(CancellationToken.None);

        var (stored, evaluatedAt) = await store.ReadAlertsAsync(CancellationToken.None);
        Assert.Equal("component:redis", Assert.Single(stored).Subject);
        Assert.NotNull(evaluatedAt);

        // A restarted poller: the alert is taken over, not raised (and logged) again.
        var restarted = new ScriptedCheck();
        restarted.Now.Add(RedisDown);
        var (again, _, _, logs, _) = await StartAsync(database, restarted);
        await again.EvaluateAsync(CancellationToken.None);
        Assert.Single(again.Current);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("raised", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EvaluateAsync_CheckFails_KeepsItsAlertsAndLogsTheFailureOnce()
    {
        var (evaluator, check, time, logs, _) = await StartAsync();
        check.Now.Add(RedisDown);
        await evaluator.EvaluateAsync(CancellationToken.None);
        check.Throws = true;
        for (var i = 0; i < 5; i++)
        {
            // Within the outage log's summary interval (a minute): one line for the failures, not one per evaluation.
            time.Advance(TimeSpan.FromSeconds(10));
            await evaluator.EvaluateAsync(CancellationToken.None);
        }

        Assert.Single(evaluator.Current);
        Assert.Single(logs.Entries, e => e.Message.Contains("store down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HealthCheck_WarningsDegrade_StuckPollerIsUnhealthy_BackendOutageIsNot()
    {
        var (evaluator, check, _, _, _) = await StartAsync();
        var health = new AlertHealthCheck(evaluator);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        check.Now.Add(new AlertCondition(AlertIds.ServerOffline, "server:a", AlertSeverity.Warning, 2, 2, "offline"));
        await evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        check.Now.Add(Stuck);
        await evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        // Redis being down is why no cycle finishes: restarting the poller would not help.
        check.Now.Add(RedisDown);
        await evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task StandDown_StuckPollerBecomesFollower_HealthyWithTheStoredAlertsLeftForTheLeader()
    {
        var (evaluator, check, _, logs, store) = await StartAsync();
        var health = new AlertHealthCheck(evaluator);
        check.Now.Add(Stuck);
        await evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        evaluator.StandDown();

        Assert.Empty(evaluator.Current);
        Assert.Null(evaluator.LastEvaluatedAt);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext())).Status);
        Assert.Single((await store.ReadAlertsAsync(CancellationToken.None)).Alerts);

        // Leading again: the stored alert is taken over, not raised a second time.
        await evaluator.EvaluateAsync(CancellationToken.None);
        Assert.Single(evaluator.Current);
        Assert.Single(logs.Entries, e => e.Message.Contains("raised", StringComparison.Ordinal));
    }
}
