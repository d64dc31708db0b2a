using Microsoft.Extensions.DependencyInjection;
using Scalelite.Api.Monitoring;
using Scalelite.BbbSimulator;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Monitoring.Canary;
using Scalelite.Core.Pool;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Monitoring;

/// <summary>
/// Each pool alert end to end: the fault is induced on a real pool (simulators, PostgreSQL, Redis), the evaluator raises
/// the alert with the right subject, and once the fault is removed the alert clears. Hysteresis is 0 here, so an alert
/// clears at the first evaluation that finds it false; the hysteresis itself is tested in AlertBookTests.
/// </summary>
public sealed class PoolAlertTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Poller:Interval"] = "1",
            ["Alerts:ClearAfter"] = "0",
            ["Alerts:RateWindow"] = "3",
            ["Alerts:ImbalanceDuration"] = "0",
            ["Alerts:DependencyTimeout"] = "2",
            ["Alerts:PostgresSlow"] = "60",
            ["Alerts:RedisSlow"] = "60",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task PollStale_ServerHangsWhileCountedOnline_RaisedForTheServerAndCleared()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings(("Poller:UnhealthyThreshold", "100")));
        var id = pool.ServerIds[0];
        pool.Simulator(id).SetFault(FaultMode.Hang);

        var alert = await RaisedAsync(pool, AlertIds.PollStale, AlertIds.Server(id), poll: true);
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.True(alert.Value > alert.Threshold);
        Assert.DoesNotContain(Evaluator(pool).Current, a => a.Subject == AlertIds.Server(pool.ServerIds[1]));

        pool.Simulator(id).SetFault(FaultMode.Ok);
        await ClearedAsync(pool, AlertIds.PollStale, AlertIds.Server(id), poll: true);
    }

    [Fact]
    public async Task PollStale_NoCycleFinishes_RaisedForThePollerAndCleared()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings());

        // No cycle runs: the harness polls only when told.
        var alert = await RaisedAsync(pool, AlertIds.PollStale, AlertIds.PollerSubject, poll: false);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);

        await ClearedAsync(pool, AlertIds.PollStale, AlertIds.PollerSubject, poll: true);
    }

    [Fact]
    public async Task ServerOffline_SimulatorAnswersErrors_RaisedForTheServerAndCleared()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings());
        var id = pool.ServerIds[1];
        pool.Simulator(id).SetFault(FaultMode.Error);

        var alert = await RaisedAsync(pool, AlertIds.ServerOffline, AlertIds.Server(id), poll: true);
        Assert.Equal(AlertSeverity.Warning, alert.Severity);
        Assert.Contains(pool.Simulator(id).ApiUrl, alert.Message, StringComparison.Ordinal);

        pool.Simulator(id).SetFault(FaultMode.Ok);
        await ClearedAsync(pool, AlertIds.ServerOffline, AlertIds.Server(id), poll: true);
    }

    [Fact]
    public async Task ServerOffline_EveryServerGarbage_Critical()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings());
        var id = pool.ServerIds[0];
        pool.Simulator(id).SetFault(FaultMode.Garbage);

        var alert = await RaisedAsync(pool, AlertIds.ServerOffline, AlertIds.Server(id), poll: true);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
    }

    [Fact]
    public async Task ApiErrors_NoServerAnswersCreates_RaisedAndClearedAfterTheWindow()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings(("Alerts:ApiErrorsPerMinute", "0")));
        foreach (var sim in pool.Simulators.Servers)
        {
            sim.SetFault(FaultMode.Down);
        }

        XmlAssert.Failed(await pool.Client.CreateAsync("api-errors-1"), "internalError");
        var alert = await RaisedAsync(pool, AlertIds.ApiErrors, AlertIds.Component("api"), poll: false);
        Assert.True(alert.Value > 0);

        foreach (var sim in pool.Simulators.Servers)
        {
            sim.SetFault(FaultMode.Ok);
        }

        await ClearedAsync(pool, AlertIds.ApiErrors, AlertIds.Component("api"), poll: false);
    }

    [Fact]
    public async Task ChecksumErrors_LmsOnAnOldSecret_RaisedAndClearedAfterTheWindow()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings(("Alerts:ChecksumErrorsPerMinute", "0")));
        using var oldSecret = new BbbTestClient(pool.ApiBase, "the-secret-before-rollover");
        XmlAssert.Failed(await oldSecret.CallAsync("getMeetings"), "checksumError");

        await RaisedAsync(pool, AlertIds.ChecksumErrors, AlertIds.Component("api"), poll: false);
        await ClearedAsync(pool, AlertIds.ChecksumErrors, AlertIds.Component("api"), poll: false);
    }

    [Fact]
    public async Task JoinFailures_JoinsOfMeetingsNotRunning_RaisedAndClearedAfterTheWindow()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings(("Alerts:JoinFailuresPerMinute", "0")));
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(await pool.Client.JoinAsync("no-such-meeting")), "notFound");

        await RaisedAsync(pool, AlertIds.JoinFailures, AlertIds.Component("api"), poll: false);
        await ClearedAsync(pool, AlertIds.JoinFailures, AlertIds.Component("api"), poll: false);
    }

    [Fact]
    public async Task PlacementImbalance_OneServerLoadedWithAttendees_RaisedNamingItAndCleared()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 3, settings: Settings());
        await DeclareCapacityAsync(pool, 100);
        var (sim, serverId) = await CreateWithAttendeesAsync(pool, "imbalance", 60);

        var alert = await RaisedAsync(pool, AlertIds.PlacementImbalance, AlertIds.Component("placement"), poll: true);
        Assert.Contains(serverId, alert.Message, StringComparison.Ordinal);
        Assert.True(alert.Value > 0.3);

        sim.EndMeeting("imbalance");
        await ClearedAsync(pool, AlertIds.PlacementImbalance, AlertIds.Component("placement"), poll: true);
    }

    [Fact]
    public async Task CapacityHeadroom_PoolCannotLoseItsLargestServer_RaisedAndCleared()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 3, settings: Settings());
        await DeclareCapacityAsync(pool, 100);
        var (sim, _) = await CreateWithAttendeesAsync(pool, "headroom", 250);

        var alert = await RaisedAsync(pool, AlertIds.CapacityHeadroom, AlertIds.Component("pool"), poll: true);
        Assert.Equal(200, alert.Threshold);
        Assert.Contains("N+1 does not hold", alert.Message, StringComparison.Ordinal);

        sim.EndMeeting("headroom");
        await ClearedAsync(pool, AlertIds.CapacityHeadroom, AlertIds.Component("pool"), poll: true);
    }

    [Fact]
    public async Task Redis_Stopped_RaisedCriticalAndClearedOnceBack()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings(), redis: redis.ConnectionString);
        await Evaluator(pool).EvaluateAsync(CancellationToken.None);
        Assert.True(!Evaluator(pool).Current.Any(a => a.Alert == AlertIds.Redis), string.Join("; ", Evaluator(pool).Current.Select(a => a.Message)));

        await redis.StopAsync();
        var alert = await RaisedAsync(pool, AlertIds.Redis, AlertIds.Component("redis"), poll: false);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);

        await redis.StartAsync(redis.Directory, redis.Port);
        await ClearedAsync(pool, AlertIds.Redis, AlertIds.Component("redis"), poll: false);
    }

    [Fact]
    public async Task Postgres_Stopped_RaisedCriticalAndClearedOnceBack()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings(), database: postgres.ConnectionString);

        await postgres.StopAsync();
        var alert = await RaisedAsync(pool, AlertIds.Postgres, AlertIds.Component("postgres"), poll: false);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);

        await postgres.StartAsync();
        await ClearedAsync(pool, AlertIds.Postgres, AlertIds.Component("postgres"), poll: false);
        // The evaluation that reached PostgreSQL again stored the alerts as they now are.
        var (stored, evaluatedAt) = await pool.Poller.Services.GetRequiredService<MonitoringStore>().ReadAlertsAsync(CancellationToken.None);
        Assert.NotNull(evaluatedAt);
        Assert.DoesNotContain(stored, a => a.Alert == AlertIds.Postgres);
    }

    [Fact]
    public async Task Canary_JoinFailsOnAServer_RaisedByThePollersEvaluatorStoredAndCleared()
    {
        // The poller's wiring: the canary's check joins the evaluator's own through IAlertCheck.
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings(("Canary:Interval", "3600")),
            poller: services => services.AddCanary());
        var runner = pool.Poller.Services.GetRequiredService<CanaryRunner>();
        Assert.Contains(CanaryAlertCheck.Alert, Evaluator(pool).KnownAlerts);
        var broken = pool.Simulators.Servers[0];
        var subject = AlertIds.Server(pool.ServerIdOf(broken));
        broken.SetFault(FaultMode.Error, calls: ["join"]);

        await runner.RunOnceAsync(CancellationToken.None);
        var alert = await RaisedAsync(pool, CanaryAlertCheck.Alert, subject, poll: false);

        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        var (stored, _) = await pool.Poller.Services.GetRequiredService<MonitoringStore>().ReadAlertsAsync(CancellationToken.None);
        Assert.Contains(stored, a => a.Alert == CanaryAlertCheck.Alert && a.Subject == subject);

        broken.SetFault(FaultMode.Ok);
        await runner.RunOnceAsync(CancellationToken.None);
        await ClearedAsync(pool, CanaryAlertCheck.Alert, subject, poll: false);
    }

    internal static AlertEvaluator Evaluator(PoolHarness pool) => pool.Poller.Services.GetRequiredService<AlertEvaluator>();

    /// <summary>Evaluates (flushing the API's counts first, and polling when asked) until the alert is active.</summary>
    internal static async Task<ActiveAlert> RaisedAsync(PoolHarness pool, string alert, string subject, bool poll)
    {
        ActiveAlert? found = null;
        await Eventually.TrueAsync(async () =>
        {
            found = (await EvaluateAsync(pool, poll)).FirstOrDefault(a => a.Alert == alert && a.Subject == subject);
            return found is not null;
        }, Deadline, $"{alert} is raised for {subject}");
        return found!;
    }

    internal static Task ClearedAsync(PoolHarness pool, string alert, string subject, bool poll) =>
        Eventually.TrueAsync(async () => !(await EvaluateAsync(pool, poll)).Any(a => a.Alert == alert && a.Subject == subject),
            Deadline, $"{alert} clears for {subject}");

    private static async Task<IReadOnlyList<ActiveAlert>> EvaluateAsync(PoolHarness pool, bool poll)
    {
        if (poll)
        {
            await pool.PollAsync();
        }

        await pool.ApiService<OutcomeFlusher>().FlushAsync();
        return await Evaluator(pool).EvaluateAsync(CancellationToken.None);
    }

    private static async Task DeclareCapacityAsync(PoolHarness pool, int capacity)
    {
        var admin = pool.ApiService<ServerAdministration>();
        foreach (var id in pool.ServerIds)
        {
            await admin.UpdateAsync(id, new ServerAdministration.Update(null, null, null, null, false, capacity, true), CancellationToken.None);
        }
    }

    private static async Task<(SimulatedServer Simulator, string ServerId)> CreateWithAttendeesAsync(PoolHarness pool, string meetingId, int attendees)
    {
        XmlAssert.Success(await pool.Client.CreateAsync(meetingId));
        var sim = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == meetingId));
        Assert.True(sim.SetAttendees(meetingId, attendees, 0));
        return (sim, pool.ServerIdOf(sim));
    }
}
