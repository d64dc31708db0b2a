using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.BbbSimulator;
using Scalelite.Core.Pool;
using Scalelite.Core.State;
using Scalelite.Poller.Polling;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Polling;

/// <summary>The poller at pool scale, and its reconciliation racing creates.</summary>
public sealed class PollerScaleTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task RunAsync_200BackendsWith5PercentHungAnd5PercentSlow_EndsWithinTimeoutPlusHalfASecond()
    {
        const double timeout = 1;
        await using var pool = await PoolHarness.StartAsync(infrastructure, 200, new Dictionary<string, string?>
        {
            ["Backend:ResponseTimeout"] = timeout.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        for (var i = 0; i < 10; i++)
        {
            pool.Simulators.Servers[i * 20].SetFault(FaultMode.Hang);
            pool.Simulators.Servers[(i * 20) + 10].SetFault(FaultMode.Slow, TimeSpan.FromSeconds(timeout + 1));
        }

        var cycle = pool.Poller.Services.GetRequiredService<PollCycle>();
        var watch = Stopwatch.StartNew();
        await cycle.RunAsync(CancellationToken.None);
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(timeout + 0.5), $"the cycle took {watch.Elapsed.TotalSeconds:F2} s");
        // One failed poll is below the unhealthy threshold: every server is still ranked, none was lost.
        Assert.Equal(200, (await pool.ApiService<LoadRanking>().GetAllAsync()).Count);
    }

    [Fact]
    public async Task RunAsync_CreatePlacedWhileAPollIsInFlight_IsNeitherForgottenNorLeftOutOfTheLoad()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, 2);
        var (quiet, busy) = (pool.Simulators.Servers[0], pool.Simulators.Servers[1]);
        // The hung server keeps the poll in flight for the whole response timeout; its tag keeps creates off it.
        await pool.ApiService<ServerAdministration>().UpdateAsync(pool.ServerIdOf(busy), new ServerAdministration.Update(null, null, null, "hold", true), CancellationToken.None);
        await pool.PollAsync();
        busy.SetFault(FaultMode.Hang);

        var quietPolls = quiet.GetCallCount("getMeetings");
        var busyPolls = busy.GetCallCount("getMeetings");
        var poll = pool.PollAsync();
        await Eventually.TrueAsync(
            () => Task.FromResult(quiet.GetCallCount("getMeetings") > quietPolls && busy.GetCallCount("getMeetings") > busyPolls),
            TimeSpan.FromSeconds(5), "both servers were asked for their meetings");

        // The quiet server has already answered (without this meeting) when the create lands on it.
        XmlAssert.Success(await pool.Client.CreateAsync("mid-poll"));
        Assert.False(poll.IsCompleted, "the poll must still be in flight when the create lands");
        await poll;

        var registry = pool.ApiService<MeetingRegistry>();
        Assert.Equal(pool.ServerIdOf(quiet), await registry.FindServerIdAsync(string.Empty, "mid-poll"));
        var loads = await pool.ApiService<LoadRanking>().GetAllAsync();
        Assert.Equal(15, loads[pool.ServerIdOf(quiet)]);

        // The next poll sees the meeting itself and counts it once.
        busy.SetFault(FaultMode.Ok);
        await pool.PollAsync();
        Assert.Equal(pool.ServerIdOf(quiet), await registry.FindServerIdAsync(string.Empty, "mid-poll"));
        Assert.Equal(15, (await pool.ApiService<LoadRanking>().GetAllAsync())[pool.ServerIdOf(quiet)]);
        using var join = await pool.Client.JoinAsync("mid-poll");
        Assert.StartsWith(quiet.ApiUrl, join.Headers.Location!.ToString());
    }
}
