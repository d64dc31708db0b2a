using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Core.State;

/// <summary>The join path's in-memory owner lookups must never outlive a change of owner made anywhere.</summary>
public sealed class MeetingOwnerCacheTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task ChangeOnAnotherReplica_InvalidatesThroughRedis()
    {
        var redis = infrastructure.CreateRedisConnectionString();
        await using var mine = await ConnectionMultiplexer.ConnectAsync(redis);
        await using var theirs = await ConnectionMultiplexer.ConnectAsync(redis);
        var myRegistry = new MeetingRegistry(mine, TimeProvider.System);
        var theirRegistry = new MeetingRegistry(theirs, TimeProvider.System);
        using var cache = new MeetingOwnerCache(myRegistry, mine, TimeProvider.System);
        await cache.StartAsync(default);

        await theirRegistry.RecordAsync(new MeetingRecord("", "m1", "server-a", DateTimeOffset.UtcNow), TimeSpan.FromMinutes(5));
        Assert.Equal("server-a", await cache.FindServerIdAsync("", "m1"));

        // The other replica ends the meeting and a create places it on another server.
        await theirRegistry.ForgetAsync("", "m1");
        await theirRegistry.RecordAsync(new MeetingRecord("", "m1", "server-b", DateTimeOffset.UtcNow), TimeSpan.FromMinutes(5));

        await Eventually.TrueAsync(async () => await cache.FindServerIdAsync("", "m1") == "server-b", TimeSpan.FromSeconds(2), "the cache follows the new owner");
    }

    [Fact]
    public async Task ChangeOnThisReplica_InvalidatesAtOnce()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var registry = new MeetingRegistry(connection, TimeProvider.System);
        using var cache = new MeetingOwnerCache(registry, connection, TimeProvider.System);
        await cache.StartAsync(default);

        await registry.RecordAsync(new MeetingRecord("", "m2", "server-a", DateTimeOffset.UtcNow), TimeSpan.FromMinutes(5));
        Assert.Equal("server-a", await cache.FindServerIdAsync("", "m2"));

        await registry.ForgetAsync("", "m2");
        Assert.Null(await cache.FindServerIdAsync("", "m2"));
    }
}

/// <summary>Meetings adopted from the servers after a Redis loss keep their voice bridge reserved.</summary>
public sealed class MeetingRegistryAdoptTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task AdoptAsync_WithVoiceBridge_ReservesItAgainstOtherMeetings()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
        var registry = new MeetingRegistry(connection, TimeProvider.System);

        Assert.True(await registry.AdoptAsync("", "running", "server-a", DateTimeOffset.UtcNow, "internal-1", TimeSpan.FromMinutes(5), "712345678"));

        Assert.Equal("712345678", (await registry.FindAsync("", "running"))!.VoiceBridge);
        Assert.False(await registry.TryReserveVoiceBridgeAsync("712345678", MeetingRegistry.MeetingKey("", "newcomer"), TimeSpan.FromMinutes(5)));
        Assert.True(await registry.TryReserveVoiceBridgeAsync("712345678", MeetingRegistry.MeetingKey("", "running"), TimeSpan.FromMinutes(5)));
    }
}

/// <summary>A poll cycle that began before Redis lost its data must not vouch for the emptied registry.</summary>
public sealed class MeetingRegistryEpochTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task MarkAuthoritative_AfterAFlushDuringTheCycle_IsRefused()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var registry = new MeetingRegistry(connection, TimeProvider.System);

        var epoch = await registry.BeginCycleAsync();
        Assert.True(await registry.MarkAuthoritativeAsync(epoch));
        Assert.True(await registry.IsAuthoritativeAsync());

        var next = await registry.BeginCycleAsync();
        Assert.Equal(epoch, next);
        await connection.GetServers()[0].FlushAllDatabasesAsync();

        Assert.False(await registry.MarkAuthoritativeAsync(next));
        Assert.False(await registry.IsAuthoritativeAsync());
        Assert.True(await registry.MarkAuthoritativeAsync(await registry.BeginCycleAsync()));
    }
}
