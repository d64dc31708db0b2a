using System.Diagnostics;
using Scalelite.BbbSimulator;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Poller.Polling;

/// <summary>Dead and hung servers, hysteresis, and Redis loss, against the real pool parts.</summary>
public sealed class PoolHealthTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Theory]
    [InlineData(FaultMode.Down)]
    [InlineData(FaultMode.Hang)]
    [InlineData(FaultMode.Garbage)]
    [InlineData(FaultMode.Error)]
    public async Task FailingServer_GoesOfflineAtThreshold_IsAvoided_AndComesBack(FaultMode mode)
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure);
        var sick = pool.Simulators.Servers[0];
        var sickId = pool.ServerIdOf(sick);
        sick.SetFault(mode);

        await pool.PollAsync();
        Assert.True((await FindAsync(pool, sickId)).Online, "one failed poll must not take a server offline (threshold 2)");
        await pool.PollAsync();
        Assert.False((await FindAsync(pool, sickId)).Online);

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => pool.Client.CreateAsync($"avoid-{mode}-{i}")));
        Assert.All(answers, XmlAssert.Success);
        Assert.Empty(sick.GetMeetings());

        var watch = Stopwatch.StartNew();
        var meetings = await pool.Client.CallAsync("getMeetings");
        XmlAssert.Success(meetings);
        Assert.Equal(12, meetings.Element("meetings")!.Elements("meeting").Count());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"getMeetings took {watch.Elapsed}");

        sick.SetFault(FaultMode.Ok);
        await pool.PollAsync();
        Assert.True((await FindAsync(pool, sickId)).Online);
    }

    [Fact]
    public async Task HungServer_DoesNotDelayThePollOfOthers_OrGetMeetings()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure);
        pool.Simulators.Servers[0].SetFault(FaultMode.Hang);
        await pool.PollAsync();
        await pool.PollAsync();
        // The API leaves it out entirely once offline; while it was online, the fan-out timeout bounded it.
        pool.Simulators.Servers[1].SetFault(FaultMode.Hang);
        var watch = Stopwatch.StartNew();
        XmlAssert.Success(await pool.Client.CallAsync("getMeetings"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"getMeetings took {watch.Elapsed} with a hung server");
    }

    [Fact]
    public async Task ServerGoingOffline_ForgetsItsMeetings_SoTheyAreRecreatedElsewhere()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure);
        await pool.Client.CreateAsync("survivor");
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "survivor"));
        owner.SetFault(FaultMode.Down);
        await pool.PollAsync();
        await pool.PollAsync();

        var again = await pool.Client.CreateAsync("survivor");
        XmlAssert.Success(again);
        var newOwner = pool.Simulators.Servers.Single(s => s != owner && s.GetMeetings().Any(m => m.MeetingId == "survivor"));
        using var join = await pool.Client.JoinAsync("survivor");
        Assert.StartsWith(newOwner.ApiUrl, join.Headers.Location!.ToString());
    }

    [Fact]
    public async Task JoinToOfflineServer_IsServerUnavailable()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: new Dictionary<string, string?> { ["Poller:UnhealthyThreshold"] = "5" });
        await pool.Client.CreateAsync("stranded");
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "stranded"));
        // Disabled by the operator: its meetings remain known, but joins are refused cleanly.
        await pool.ApiService<ServerAdministration>().UpdateAsync(pool.ServerIdOf(owner), new ServerAdministration.Update("disable", null, null, null, false), default);
        await pool.ApiService<IServerDirectory>().RefreshAsync();

        using var join = await pool.Client.JoinAsync("stranded");
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(join), "serverUnavailable");
    }

    [Fact]
    public async Task CordonedServer_WithNoMeetings_BecomesDisabled()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure);
        var id = pool.ServerIds[0];
        await pool.ApiService<ServerAdministration>().UpdateAsync(id, new ServerAdministration.Update("cordon", null, null, null, false), default);
        await pool.PollAsync();
        Assert.Equal(ServerState.Disabled, (await FindAsync(pool, id)).State);
    }

    [Fact]
    public async Task RedisFlushAll_WhileMeetingsRun_JoinsStillReachTheRightServer()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 3, redis: redis.ConnectionString);
        var ids = Enumerable.Range(0, 12).Select(i => $"flush-{i}").ToList();
        foreach (var id in ids)
        {
            XmlAssert.Success(await pool.Client.CreateAsync(id));
        }

        var owners = ids.ToDictionary(id => id, id => pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == id)).ApiUrl);

        using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true"))
        {
            await connection.GetServers()[0].FlushAllDatabasesAsync();
        }

        // Before any poll: joins heal from the backends.
        foreach (var id in ids)
        {
            using var join = await pool.Client.JoinAsync(id);
            Assert.Equal(System.Net.HttpStatusCode.Redirect, join.StatusCode);
            Assert.StartsWith(owners[id] + "/join?", join.Headers.Location!.ToString());
        }

        // A create after the loss must find the running meeting, not place a second one.
        XmlAssert.Success(await pool.Client.CreateAsync(ids[0]));
        Assert.Single(pool.Simulators.Servers, s => s.GetMeetings().Any(m => m.MeetingId == ids[0]));

        await using (var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true"))
        {
            await connection.GetServers()[0].FlushAllDatabasesAsync();
        }

        // After the next poll the registry is rebuilt: joins need no healing.
        await pool.PollAsync();
        var lookups = pool.Simulators.Servers.Sum(s => s.GetCallCount("getMeetingInfo"));
        foreach (var id in ids)
        {
            using var join = await pool.Client.JoinAsync(id);
            Assert.StartsWith(owners[id] + "/join?", join.Headers.Location!.ToString());
        }

        Assert.Equal(lookups, pool.Simulators.Servers.Sum(s => s.GetCallCount("getMeetingInfo")));
    }

    private static async Task<Server> FindAsync(PoolHarness pool, string id) =>
        (await pool.ApiService<ServerAdministration>().FindAsync(id, default))!;
}
