using Scalelite.BbbSimulator;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Polling;

/// <summary>An operator's change made while a poll's probes are out wins over the poll's older view.</summary>
public sealed class PollRaceTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static async Task<Task> StartPollWhileProbeIsOutAsync(PoolHarness pool, SimulatedServer sim)
    {
        var before = sim.GetCallCount("getMeetings");
        sim.SetFault(FaultMode.Slow, TimeSpan.FromMilliseconds(800));
        var poll = pool.PollAsync();
        await Eventually.TrueAsync(() => Task.FromResult(sim.GetCallCount("getMeetings") > before), TimeSpan.FromSeconds(5), "the probe is out");
        return poll;
    }

    [Fact]
    public async Task CordonedServerEnabledDuringAPoll_StaysEnabled()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.ApiService<ServerAdministration>();
        var id = pool.ServerIds[0];
        await admin.UpdateAsync(id, new ServerAdministration.Update("cordon", null, null, null, false), default);

        var poll = await StartPollWhileProbeIsOutAsync(pool, pool.Simulators.Servers[0]);
        await admin.UpdateAsync(id, new ServerAdministration.Update("enable", null, null, null, false), default);
        await poll;

        Assert.Equal(ServerState.Enabled, (await admin.FindAsync(id, default))!.State);
    }

    [Fact]
    public async Task ServerDeletedDuringAPoll_DoesNotFailTheCycle()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var admin = pool.ApiService<ServerAdministration>();

        var poll = await StartPollWhileProbeIsOutAsync(pool, pool.Simulators.Servers[0]);
        Assert.True((await admin.DeleteAsync(pool.ServerIds[0], default)).Succeeded);
        await poll;

        var remaining = Assert.Single(await admin.ListAsync(default));
        Assert.Equal(pool.ServerIds[1], remaining.Id);
        Assert.True(remaining.Online);
    }
}
