using Microsoft.Extensions.DependencyInjection;
using Scalelite.BbbSimulator;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Monitoring.Canary;
using Scalelite.Core.Persistence;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Monitoring.Canary;

/// <summary>
/// The canary against simulated BBB servers: a real meeting on each server, its failures as the <c>canary</c> alert's
/// condition for that server, and its meetings kept out of everything the LMSs and the load see.
/// </summary>
public sealed class CanaryTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // Long enough that the timer never runs a round during a test: the tests run them.
    private static readonly Dictionary<string, string?> Settings = new() { ["Canary:Interval"] = "3600" };

    [Fact]
    public async Task RunOnceAsync_HealthyServers_PassesEveryStepOnEachAndLeavesNoMeetingBehind()
    {
        await using var pool = await StartAsync();

        var round = await Runner(pool).RunOnceAsync(CancellationToken.None);

        Assert.Equal(pool.ServerIds.Order(StringComparer.Ordinal), round.Select(r => r.ServerId));
        Assert.All(round, r =>
        {
            Assert.True(r.Succeeded, $"{r.ServerId}: {r.Failure?.Step} {r.Failure?.Answer}");
            Assert.Equal([CanaryProbe.Create, CanaryProbe.Join, CanaryProbe.GetMeetingInfo, CanaryProbe.End], r.Steps.Select(s => s.Step));
            Assert.StartsWith(CanaryMeeting.Prefix, r.MeetingId, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(r.InternalMeetingId));
        });
        foreach (var sim in pool.Simulators.Servers)
        {
            Assert.Empty(sim.GetMeetings());
            Assert.Equal(1, sim.GetCallCount("create"));
            Assert.Equal(1, sim.GetCallCount("join"));
            Assert.Equal(1, sim.GetCallCount("end"));
        }

        Assert.Empty(await Check(pool).EvaluateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RunOnceAsync_JoinFails_RaisesTheCanaryConditionForThatServerAtTheJoinStep_AndClearsWhenFixed()
    {
        await using var pool = await StartAsync();
        var broken = pool.Simulators.Servers[1];
        var brokenId = pool.ServerIdOf(broken);
        broken.SetFault(FaultMode.Error, calls: ["join"]);

        await Runner(pool).RunOnceAsync(CancellationToken.None);
        await Runner(pool).RunOnceAsync(CancellationToken.None);

        var condition = Assert.Single(await Check(pool).EvaluateAsync(CancellationToken.None));
        Assert.Equal("canary", condition.Alert);
        Assert.Equal($"server:{brokenId}", condition.Subject);
        Assert.Equal(AlertSeverity.Critical, condition.Severity);
        Assert.Equal(2, condition.Value);
        Assert.Equal(1, condition.Threshold);
        Assert.Contains("Canary join failed", condition.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 500", condition.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', condition.Message);
        var status = pool.Poller.Services.GetRequiredService<CanaryResults>().Find(brokenId)!;
        Assert.Equal(CanaryProbe.Join, status.Latest.Failure!.Step);
        Assert.Contains(status.Latest.InternalMeetingId!, condition.Message, StringComparison.Ordinal);
        // A failed join still ends the test meeting: nothing is left running on the node.
        Assert.Empty(broken.GetMeetings());
        Assert.Equal(2, broken.GetCallCount("end"));

        broken.SetFault(FaultMode.Ok);
        await Runner(pool).RunOnceAsync(CancellationToken.None);

        Assert.Empty(await Check(pool).EvaluateAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(FaultMode.Hang, "Timed out.")]
    [InlineData(FaultMode.Error, "HTTP 500")]
    [InlineData(FaultMode.Garbage, "not a BBB response")]
    public async Task RunOnceAsync_ServerFault_FailsAtCreateWithTheAnswer(FaultMode mode, string answer)
    {
        await using var pool = await StartAsync(simulators: 2);
        var sick = pool.Simulators.Servers[0];
        sick.SetFault(mode);

        var round = await Runner(pool).RunOnceAsync(CancellationToken.None);

        var failed = Assert.Single(round, r => !r.Succeeded);
        Assert.Equal(pool.ServerIdOf(sick), failed.ServerId);
        Assert.Equal(CanaryProbe.Create, failed.Failure!.Step);
        Assert.Contains(answer, failed.Failure.Answer, StringComparison.Ordinal);
        var condition = Assert.Single(await Check(pool).EvaluateAsync(CancellationToken.None));
        Assert.Equal($"server:{failed.ServerId}", condition.Subject);
        Assert.Contains("Canary create failed", condition.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunOnceAsync_ServerNoLongerEnabledOrOnline_GetsNoRunAndItsConditionGoes()
    {
        await using var pool = await StartAsync(simulators: 2);
        var sick = pool.Simulators.Servers[0];
        var sickId = pool.ServerIdOf(sick);
        sick.SetFault(FaultMode.Error, calls: ["create"]);
        await Runner(pool).RunOnceAsync(CancellationToken.None);
        Assert.Single(await Check(pool).EvaluateAsync(CancellationToken.None));

        await pool.ApiService<Scalelite.Core.Pool.ServerAdministration>().UpdateAsync(sickId, new("disable", null, null, null, false), CancellationToken.None);
        var round = await Runner(pool).RunOnceAsync(CancellationToken.None);

        Assert.DoesNotContain(round, r => r.ServerId == sickId);
        Assert.Empty(await Check(pool).EvaluateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EvaluateAsync_CanaryOff_ReportsNothing()
    {
        await using var pool = await StartAsync(simulators: 1, interval: "0");
        pool.Simulators.Servers[0].SetFault(FaultMode.Error);
        await Runner(pool).RunOnceAsync(CancellationToken.None);

        Assert.Empty(await Check(pool).EvaluateAsync(CancellationToken.None));
        Assert.Contains(pool.Poller.Services.GetServices<IAlertCheck>(), c => c.Alerts.Contains("canary"));
    }

    [Fact]
    public async Task CanaryMeeting_RunningOnAServer_IsNotCountedListedAdoptedOrRecorded()
    {
        await using var pool = await StartAsync(simulators: 1);
        var sim = pool.Simulators.Servers[0];
        var serverId = pool.ServerIds[0];
        XmlAssert.Success(await pool.Client.CreateAsync("lms-class"));
        await pool.PollAsync();
        var loadWithout = await LoadAsync(pool, serverId);

        // A canary meeting caught mid-run, with someone in it: exactly what the poller and getMeetings would see.
        var canaryId = CanaryMeeting.NewId(serverId, DateTimeOffset.UtcNow);
        using (var direct = new BbbTestClient(sim.ApiUrl, sim.Secret))
        {
            // Recording on: even a node that recorded it would not make the poller expect its recording.
            XmlAssert.Success(await direct.CreateAsync(canaryId, ("record", "true")));
        }

        Assert.True(sim.SetAttendees(canaryId, 5, 1));
        await pool.PollAsync();

        Assert.Equal(loadWithout, await LoadAsync(pool, serverId));
        Assert.Null(await pool.ApiService<MeetingRegistry>().FindServerIdAsync(string.Empty, canaryId));
        var server = await FindServerAsync(pool, serverId);
        Assert.Equal(1, server.Meetings);
        var listed = await pool.Client.CallAsync("getMeetings");
        XmlAssert.Success(listed);
        Assert.Equal(["lms-class"], listed.Element("meetings")!.Elements("meeting").Select(m => m.Element("meetingID")!.Value));
        Assert.Equal("0", await ScalarAsync(pool, "select count(*) from recorded_meetings"));

        // An LMS may not use the reserved prefix.
        XmlAssert.Failed(await pool.Client.CreateAsync(CanaryMeeting.Prefix + "mine"), "validationError");
        XmlAssert.Failed(await pool.Client.CallAsync("getMeetingInfo", ("meetingID", canaryId)), "validationError");
    }

    [Fact]
    public async Task CanaryMeeting_OnlyMeetingOfAServer_LeavesGetMeetingsWithNoMeetings()
    {
        await using var pool = await StartAsync(simulators: 1);
        var sim = pool.Simulators.Servers[0];
        using (var direct = new BbbTestClient(sim.ApiUrl, sim.Secret))
        {
            XmlAssert.Success(await direct.CreateAsync(CanaryMeeting.NewId(pool.ServerIds[0], DateTimeOffset.UtcNow)));
        }

        var listed = await pool.Client.CallAsync("getMeetings");

        XmlAssert.Success(listed);
        Assert.Empty(listed.Element("meetings")?.Elements("meeting") ?? []);
    }

    private Task<PoolHarness> StartAsync(int simulators = 3, string interval = "3600") =>
        PoolHarness.StartAsync(infrastructure, simulators, settings: new Dictionary<string, string?>(Settings) { ["Canary:Interval"] = interval },
            poller: services => services.AddCanary());

    private static CanaryRunner Runner(PoolHarness pool) => pool.Poller.Services.GetRequiredService<CanaryRunner>();

    private static CanaryAlertCheck Check(PoolHarness pool) => pool.Poller.Services.GetServices<IAlertCheck>().OfType<CanaryAlertCheck>().Single();

    private static async Task<double> LoadAsync(PoolHarness pool, string serverId) => (await FindServerAsync(pool, serverId)).Load ?? -1;

    private static async Task<Server> FindServerAsync(PoolHarness pool, string serverId) =>
        (await pool.ApiService<Scalelite.Core.Pool.ServerAdministration>().FindAsync(serverId, CancellationToken.None))!;

    private static async Task<string> ScalarAsync(PoolHarness pool, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(pool.Database);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }
}
