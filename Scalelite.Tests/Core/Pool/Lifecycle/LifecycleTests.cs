using System.Net;
using System.Net.Http.Headers;
using Scalelite.BbbSimulator;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Pool.Lifecycle;

/// <summary>Each guard rail of the node lifecycle, against a real pool (PostgreSQL, Redis, simulators).</summary>
public sealed class LifecycleTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly Actor Operator = new("test-operator", "maintenance window");

    [Fact]
    public async Task Add_SameIdManyTimesAtOnce_OneIsAddedAndTheOthersAreRefusedWithoutAnError()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.ApiService<ServerAdministration>();

        // The same id with a different URL each: the checks before the insert may all pass; the insert decides.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            admin.AddAsync($"https://racing-{i}.example/bigbluebutton/api", "secret", 1, null, default, actor: Operator, id: "racing")));

        Assert.Single(results, r => r.Status == LifecycleStatus.Done);
        Assert.All(results.Where(r => r.Status != LifecycleStatus.Done), r =>
        {
            Assert.Equal(LifecycleStatus.Refused, r.Status);
            Assert.Contains("Server already exists with id 'racing'", r.Error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Enable_NodeWithWrongSecret_IsRefusedWithTheReason_AndRecorded()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var sim = pool.Simulators.Servers[0];
        var admin = pool.ApiService<ServerAdministration>();
        var lifecycle = pool.ApiService<ServerLifecycle>();
        await lifecycle.RemoveAsync(pool.ServerIds[0], force: false, Operator, default);

        var result = await admin.AddAsync(sim.ApiUrl, "not-the-secret", 1, null, default, actor: Operator);
        var added = result.Server;
        Assert.True(added is not null, result.Error);
        Assert.Equal(ServerState.Disabled, added.State);
        Assert.NotNull(added.LastPolledAt); // probed at once, not at the next poll

        var enable = await lifecycle.SetStateAsync(added.Id, ServerState.Enabled, Operator, default);
        Assert.Equal(LifecycleStatus.Refused, enable.Status);
        Assert.Contains("does not accept our secret", enable.Error, StringComparison.Ordinal);
        Assert.Equal(ServerState.Disabled, (await admin.FindAsync(added.Id, default))!.State);

        var events = await pool.ApiService<ServerEventLog>().ListAsync(added.Id, 10, default);
        var refused = Assert.Single(events, e => e.Action == ServerActions.EnableRefused);
        Assert.Equal("test-operator", refused.Actor);
        Assert.Contains(events, e => e.Action == ServerActions.Add);
    }

    [Fact]
    public async Task Enable_NewNode_IsRefusedUntilItPassesTheHealthyThreshold()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?> { ["Poller:HealthyThreshold"] = "3" });
        var sim = pool.Simulators.Servers[0];
        var lifecycle = pool.ApiService<ServerLifecycle>();
        await lifecycle.RemoveAsync(pool.ServerIds[0], force: false, Operator, default);

        var added = (await pool.ApiService<ServerAdministration>().AddAsync(sim.ApiUrl, sim.Secret, 1, null, default, actor: Operator)).Server;
        Assert.False(added!.Online);

        // The add probed once; this enable probes a second time: 2 of 3.
        var first = await lifecycle.SetStateAsync(added.Id, ServerState.Enabled, Operator, default);
        Assert.Equal(LifecycleStatus.Refused, first.Status);
        Assert.Contains("2 of 3", first.Error, StringComparison.Ordinal);

        var second = await lifecycle.SetStateAsync(added.Id, ServerState.Enabled, Operator, default);
        Assert.True(second.Succeeded, second.Error);
        Assert.Equal(ServerState.Enabled, second.Server!.State);
        Assert.NotNull(second.Server.BbbVersion);
    }

    [Fact]
    public async Task Enable_WithAdmissionTest_CreatesAndEndsATestMeeting()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var sim = pool.Simulators.Servers[0];
        var lifecycle = pool.ApiService<ServerLifecycle>();
        await lifecycle.SetStateAsync(pool.ServerIds[0], ServerState.Disabled, Operator, default);
        var creates = sim.GetCallCount("create");

        var result = await lifecycle.SetStateAsync(pool.ServerIds[0], ServerState.Enabled, Operator, default, testMeeting: true);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(creates + 1, sim.GetCallCount("create"));
        Assert.Empty(sim.GetMeetings());
    }

    [Fact]
    public async Task Probe_ServerThatStopsAnswering_GoesOfflineAsAPollWouldTakeIt()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("stranded"));
        await pool.PollAsync(); // the record shows the meeting
        var id = pool.ServerIds[0];
        pool.Simulators.Servers[0].SetFault(FaultMode.Down);
        var lifecycle = pool.ApiService<ServerLifecycle>();

        // The unhealthy threshold is 2: the second failed probe takes it offline.
        await lifecycle.ProbeAsync(id, testMeeting: false, Operator, default);
        var (result, verdict) = await lifecycle.ProbeAsync(id, testMeeting: false, Operator, default);

        Assert.False(result.Server!.Online);
        Assert.False(verdict!.Admitted);
        Assert.Null(result.Server.Load);
        Assert.Equal(0, result.Server.Meetings); // what it was seen to run is gone with it
        Assert.Empty(await pool.ApiService<MeetingRegistry>().ServerMeetingsAsync(id));
        var offline = Assert.Single(await pool.ApiService<ServerEventLog>().ListAsync(id, 10, default), e => e.Action == ServerActions.Offline);
        Assert.Equal("test-operator", offline.Actor);
    }

    [Fact]
    public async Task Drain_EndsInDisabled_AfterTheLastMeetingEnds()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("drain-me"));
        var sim = pool.Simulators.Servers.Single(s => s.GetMeetings().Count == 1);
        var id = pool.ServerIdOf(sim);
        var lifecycle = pool.ApiService<ServerLifecycle>();

        var (started, progress) = await lifecycle.DrainAsync(id, Operator, default);
        Assert.True(started.Succeeded);
        Assert.Equal(ServerState.Cordoned, progress!.State);
        Assert.Equal(1, progress.MeetingsOwned);

        await pool.PollAsync();
        var waited = await lifecycle.WaitForDrainAsync(id, TimeSpan.FromMilliseconds(300), default, TimeSpan.FromMilliseconds(50));
        Assert.True(waited!.TimedOut);
        Assert.False(waited.Drained);
        Assert.Equal(1, waited.MeetingsReported);

        // New meetings go elsewhere meanwhile.
        XmlAssert.Success(await pool.Client.CreateAsync("while-draining"));
        Assert.Single(sim.GetMeetings());

        var wait = lifecycle.WaitForDrainAsync(id, TimeSpan.FromSeconds(30), default, TimeSpan.FromMilliseconds(50));
        sim.EndMeeting("drain-me");
        await pool.PollAsync();
        var done = await wait;
        Assert.True(done!.Drained);
        Assert.False(done.TimedOut);
        Assert.Equal(ServerState.Disabled, done.State);

        var events = await pool.ApiService<ServerEventLog>().ListAsync(id, 10, default);
        Assert.Contains(events, e => e.Action == ServerActions.Drain && e.Actor == "test-operator" && e.Reason == "maintenance window");
        Assert.Contains(events, e => e.Action == ServerActions.Drained && e.Actor == "poller" && e.ToState == "disabled");
    }

    [Fact]
    public async Task Remove_ServerWithMeetings_IsRefusedUnlessForced()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("busy"));
        var id = pool.ServerIds[0];
        var lifecycle = pool.ApiService<ServerLifecycle>();

        var refused = await lifecycle.RemoveAsync(id, force: false, Operator, default);
        Assert.Equal(LifecycleStatus.Refused, refused.Status);
        Assert.Contains("1 meeting", refused.Error, StringComparison.Ordinal);
        Assert.NotNull(await pool.ApiService<ServerAdministration>().FindAsync(id, default));

        var forced = await lifecycle.RemoveAsync(id, force: true, Operator, default);
        Assert.True(forced.Succeeded);
        Assert.Null(await pool.ApiService<ServerAdministration>().FindAsync(id, default));
        Assert.Empty(pool.Simulators.Servers[0].GetMeetings()); // a forced removal ends what it cuts off
        var removed = Assert.Single(await pool.ApiService<ServerEventLog>().ListAsync(id, 10, default), e => e.Action == ServerActions.Remove);
        Assert.Contains("forced past", removed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Panic_ForgetsItsMeetings_AndEndsThemOnlyWhenAsked()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("p1"));
        XmlAssert.Success(await pool.Client.CreateAsync("p2"));
        var id = pool.ServerIds[0];
        var lifecycle = pool.ApiService<ServerLifecycle>();

        var (result, meetings) = await lifecycle.PanicAsync(id, endMeetings: false, keepState: false, Operator, default);

        Assert.True(result.Succeeded);
        Assert.Equal(2, meetings);
        Assert.Empty(await pool.ApiService<MeetingRegistry>().ServerMeetingsAsync(id));
        Assert.Equal(ServerState.Disabled, result.Server!.State);
        Assert.Equal(2, pool.Simulators.Servers[0].GetMeetings().Count); // forgotten, not ended
        XmlAssert.Failed(await pool.Client.CallAsync("getMeetingInfo", ("meetingID", "p1")), "notFound");

        Assert.True((await lifecycle.SetStateAsync(id, ServerState.Enabled, Operator, default)).Succeeded);
        await pool.ApiService<IServerDirectory>().RefreshAsync();
        XmlAssert.Success(await pool.Client.CreateAsync("p3"));
        var (_, ended) = await lifecycle.PanicAsync(id, endMeetings: true, keepState: true, Operator, default);
        Assert.True(ended >= 1);
        Assert.DoesNotContain(pool.Simulators.Servers[0].GetMeetings(), m => m.MeetingId == "p3");
        Assert.Contains(await pool.ApiService<ServerEventLog>().ListAsync(id, 10, default), e => e.Action == ServerActions.Panic);
    }

    [Fact]
    public async Task OperatorApi_WithoutTheSecret_Is401_AndOpenApiDescribesIt()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        using var http = new HttpClient { BaseAddress = new Uri(new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority)) };

        using (var anonymous = await http.GetAsync("/api/v1/servers"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/v1/servers") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "nope") } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Get, "/api/v1/servers") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", PoolHarness.Secret) } };
        using var ok = await http.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains(pool.ServerIds[0], await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var openApi = await http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/v1/servers/{id}/drain", openApi, StringComparison.Ordinal);
        Assert.Contains("/api/v1/headroom", openApi, StringComparison.Ordinal);
        Assert.DoesNotContain("/bigbluebutton/api", openApi, StringComparison.Ordinal);
    }
}
