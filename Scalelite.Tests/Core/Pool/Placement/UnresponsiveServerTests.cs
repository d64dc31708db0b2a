using Microsoft.Extensions.DependencyInjection;
using Scalelite.BbbSimulator;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Pool.Placement;

/// <summary>A server that hangs costs one create its timeout, not every create until the poller takes it out.</summary>
public sealed class UnresponsiveServerTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Create_AfterACreateTimedOutOnAServer_SkipsItUntilAPollOfItSucceeds()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var hung = pool.Simulators.Servers[0];
        var healthy = pool.Simulators.Servers[1];
        hung.SetFault(FaultMode.Hang);

        // Its seats are given back after each timeout, so it stays the lowest load and every create would pick it.
        for (var i = 0; i < 4; i++)
        {
            XmlAssert.Success(await pool.Client.CreateAsync($"hung-{i}"));
        }

        Assert.Equal(1, hung.GetCallCount("create"));
        Assert.Equal(4, healthy.GetMeetings().Count);

        // A failed poll is no proof of life: it stays skipped.
        await pool.PollAsync();
        XmlAssert.Success(await pool.Client.CreateAsync("still-hung"));
        Assert.Equal(1, hung.GetCallCount("create"));

        hung.SetFault(FaultMode.Ok);
        await pool.PollAsync();
        XmlAssert.Success(await pool.Client.CreateAsync("back"));
        Assert.Contains(hung.GetMeetings(), m => m.MeetingId == "back");
    }

    [Fact]
    public async Task Create_OnAnotherReplica_SkipsAServerThatLeftACreateOfThisOneUnanswered()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var other = await pool.StartApiReplicaAsync();
        var hung = pool.Simulators.Servers[0];
        hung.SetFault(FaultMode.Hang);
        for (var i = 0; hung.GetCallCount("create") == 0; i++)
        {
            Assert.True(i < 4, "the lowest-loaded server is picked within a few creates");
            XmlAssert.Success(await pool.Client.CreateAsync($"first-{i}"));
        }

        var skipped = pool.ApiReplicas[0].Services.GetRequiredService<Scalelite.Core.Pool.Placement.UnresponsiveServers>();
        await Eventually.TrueAsync(() => Task.FromResult(skipped.IsSkipped(pool.ServerIdOf(hung))), TimeSpan.FromSeconds(10), "the other replica hears of it");
        for (var i = 0; i < 3; i++)
        {
            using var response = await other.Http.GetAsync(other.Url("create", BbbTestClient.Query(("meetingID", $"second-{i}"), ("name", "n"))));
            XmlAssert.Success(await BbbTestClient.ReadXmlAsync(response));
        }

        Assert.Equal(1, hung.GetCallCount("create"));
    }
}
