using System.Collections.Concurrent;
using Scalelite.Core.State;
using Scalelite.LocalServers;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Core.State;

/// <summary>
/// A subscription that Redis is too slow to take (a timeout, not a connection error) neither stops a service from
/// starting nor stays missing: it is made once Redis answers, and delivers each message once.
/// </summary>
public sealed class RedisSubscriptionTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly RedisChannel Channel = RedisChannel.Literal("sl:test-subscription");

    [Fact]
    public async Task TryAsync_RedisFrozenAtStart_FailsWithoutThrowingThenHoldsAndDeliversEachMessageOnce()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},syncTimeout=500,asyncTimeout=500");
        var received = new ConcurrentQueue<string>();
        var failures = 0;
        using var subscription = new RedisSubscription(
            connection, Channel, (_, message) => received.Enqueue(message.ToString()), TimeProvider.System, _ => Interlocked.Increment(ref failures));

        Assert.True(ProcessUtilities.Suspend(redis.ProcessId!.Value));
        bool heldWhileFrozen;
        try
        {
            heldWhileFrozen = await subscription.TryAsync();
        }
        finally
        {
            ProcessUtilities.Resume(redis.ProcessId!.Value);
        }

        Assert.False(heldWhileFrozen);
        Assert.True(failures >= 1);
        await Eventually.TrueAsync(() => Task.FromResult(subscription.IsHeld), TimeSpan.FromSeconds(30), "the subscription is made once Redis answers");

        await using var publisher = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await publisher.GetSubscriber().PublishAsync(Channel, "first");
        await Eventually.TrueAsync(() => Task.FromResult(!received.IsEmpty), TimeSpan.FromSeconds(30), "the first message arrives");
        await publisher.GetSubscriber().PublishAsync(Channel, "second");
        await Eventually.TrueAsync(() => Task.FromResult(received.Count >= 2), TimeSpan.FromSeconds(30), "the second message arrives");

        // A handler left over from the failed attempt would have delivered "first" twice.
        Assert.Equal(["first", "second"], received.ToArray());
    }
}
