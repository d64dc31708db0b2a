using Microsoft.Extensions.Logging.Abstractions;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Core.State;

/// <summary>The breaker opens on Redis being down, not on a command Redis refused, and closes only after its recovery ran.</summary>
public sealed class RedisBreakerTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Trips_CommandRedisRefused_StaysClosed()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        using var breaker = new RedisBreaker(connection, TimeProvider.System, NullLogger<RedisBreaker>.Instance);

        var refused = await Assert.ThrowsAsync<RedisServerException>(() => connection.GetDatabase().ExecuteAsync("NO-SUCH-COMMAND"));

        Assert.False(breaker.Trips(refused));
        Assert.False(breaker.Trips(new InvalidOperationException("not Redis")));
        Assert.False(breaker.IsOpen);
    }

    [Fact]
    public async Task Trips_RedisStopped_OpensAndClosesOnceRedisAnswersAndRecoveryRan()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        var options = ConfigurationOptions.Parse(redis.ConnectionString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new LinearRetry(500);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        using var breaker = new RedisBreaker(connection, TimeProvider.System, NullLogger<RedisBreaker>.Instance);
        var recoveries = 0;
        bool? openDuringFirstRecovery = null;
        breaker.OnRecovery(async ct =>
        {
            openDuringFirstRecovery ??= breaker.IsOpen;
            // Recovery writes to Redis: it must be answering by then.
            await connection.GetDatabase().PingAsync();
            Interlocked.Increment(ref recoveries);
        });

        await redis.StopAsync();
        var failure = await Assert.ThrowsAnyAsync<RedisException>(() => connection.GetDatabase().PingAsync());
        Assert.True(breaker.Trips(failure));
        Assert.True(breaker.IsOpen);
        Assert.Equal(0, recoveries);

        await redis.StartAsync(redis.Directory, redis.Port);
        await Eventually.TrueAsync(() => Task.FromResult(!breaker.IsOpen), TimeSpan.FromSeconds(20), "the breaker closes");
        Assert.True(openDuringFirstRecovery);
        Assert.True(recoveries >= 1);
    }
}
