using Microsoft.Extensions.Logging.Abstractions;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using StackExchange.Redis;

namespace Scalelite.Tests.State;

/// <summary>Joins add their load in memory; a flush must carry every one of them to the ranking, and nothing else.</summary>
public sealed class JoinLoadBufferTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task FlushAsync_ConcurrentJoins_AllCountOnceOnRankedServersOnly()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var ranking = new LoadRanking(connection);
        await ranking.SetAsync("ranked", 10);
        using var buffer = new JoinLoadBuffer(ranking, TimeProvider.System, NullLogger<JoinLoadBuffer>.Instance);

        // Four threads add while flushes run: no join may be lost or counted twice.
        var adding = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2500; i++)
            {
                buffer.Add("ranked", 1);
                buffer.Add("unranked", 2);
            }
        })));
        while (!adding.IsCompleted)
        {
            await buffer.FlushAsync();
        }

        await adding;
        await buffer.FlushAsync();

        var loads = await ranking.GetAllAsync();
        Assert.Equal(10 + 10_000, loads["ranked"]);
        // A server the poller took out of the ranking (offline, cordoned) is not brought back by joins.
        Assert.False(loads.ContainsKey("unranked"));
    }

    [Fact]
    public async Task Stop_FlushesWhatIsPending()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var ranking = new LoadRanking(connection);
        await ranking.SetAsync("server", 0);
        using var buffer = new JoinLoadBuffer(ranking, TimeProvider.System, NullLogger<JoinLoadBuffer>.Instance);
        await buffer.StartAsync(default);

        buffer.Add("server", 3);
        await buffer.StopAsync(default);

        Assert.Equal(3, (await ranking.GetAllAsync())["server"]);
    }
}
