using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using StackExchange.Redis;

namespace Scalelite.Tests.Core.State;

/// <summary>Joins add their load in memory; every one must reach the ranking exactly once (placement's share: <c>MeetingPlacementTests</c>).</summary>
public sealed class JoinLoadBufferTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task FlushAsync_WhileJoinsArrive_CountsEachOnceAndOnlyOnRankedServers()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var ranking = new LoadRanking(connection);
        await ranking.SetAsync("ranked", 10);
        using var buffer = Buffer(connection, ranking, new FakeTimeProvider());

        // Adders run until 50 flushes have taken from under them: no join may be lost or counted twice.
        var flushes = 0;
        var adders = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            long added = 0;
            while (Volatile.Read(ref flushes) < 50)
            {
                buffer.Add("ranked", 1.5);
                buffer.Add("unranked", 2);
                added++;
            }

            return added;
        })).ToList();
        while (flushes < 50)
        {
            await buffer.FlushAsync();
            Interlocked.Increment(ref flushes);
        }

        var added = (await Task.WhenAll(adders)).Sum();
        await buffer.FlushAsync();

        var loads = await ranking.GetAllAsync();
        Assert.Equal(10 + (1.5 * added), loads["ranked"], precision: 6);
        // A server the poller took out of the ranking (offline, cordoned) is not brought back by joins.
        Assert.False(loads.ContainsKey("unranked"));
    }

    [Fact]
    public async Task Add_NotAFinitePositiveAmount_IsIgnored()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var ranking = new LoadRanking(connection);
        await ranking.SetAsync("a", 0);
        await ranking.SetAsync("b", 0);
        using var buffer = Buffer(connection, ranking, new FakeTimeProvider());

        buffer.Add("a", double.NaN);
        buffer.Add("a", double.PositiveInfinity);
        buffer.Add("a", -1);
        buffer.Add("b", 2);
        await buffer.FlushAsync();

        var loads = await ranking.GetAllAsync();
        Assert.Equal(0, loads["a"]);
        Assert.Equal(2, loads["b"]);
    }

    [Fact]
    public async Task Stop_FlushesWhatIsPending()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var ranking = new LoadRanking(connection);
        await ranking.SetAsync("server", 0);
        using var buffer = Buffer(connection, ranking, new FakeTimeProvider()); // no timer tick can do it instead
        await buffer.StartAsync(default);

        buffer.Add("server", 3);
        await buffer.StopAsync(default);

        Assert.Equal(3, (await ranking.GetAllAsync())["server"]);
    }

    private static JoinLoadBuffer Buffer(ConnectionMultiplexer connection, LoadRanking ranking, TimeProvider time) =>
        new(ranking, new RedisBreaker(connection, time, NullLogger<RedisBreaker>.Instance), time, NullLogger<JoinLoadBuffer>.Instance);
}
