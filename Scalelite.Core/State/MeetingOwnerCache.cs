using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>
/// A short-lived, in-process copy of meeting → server lookups for the join hot path.
/// </summary>
/// <remarks>
/// At the start of a class, most joins ask for the same few meetings; answering them from memory halves the cost
/// of a join. Correctness rests on invalidation, not on the lifetime: every change of ownership in
/// <see cref="MeetingRegistry"/> (record, adopt, forget, a server going offline) publishes the meeting on a Redis
/// channel, and every API replica drops its copy on receipt. The lifetime bounds the damage of a message lost
/// while Redis was unreachable, and the whole cache is dropped when the connection is restored.
/// Only found owners are kept: a miss always asks Redis (and may heal from the servers).
/// <para>While Redis is down (<see cref="IRedisBreaker"/>) the lifetime does not apply: no change of owner can be
/// recorded meanwhile, so what this replica knew when Redis went away is still the best answer
/// (<see cref="Remembered"/>), and owners learnt from the servers or placed meanwhile are added to it
/// (<see cref="Remember"/>). When Redis is back it is the authority again, and the whole cache is dropped.</para>
/// </remarks>
public sealed class MeetingOwnerCache : Microsoft.Extensions.Hosting.IHostedService, IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, (string ServerId, long ExpiresAt)> _owners = new(StringComparer.Ordinal);
    private readonly MeetingRegistry _registry;
    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly long _lifetimeTicks;

    // Without the subscription another replica's changes would go unheard: lookups then bypass the cache.
    private readonly RedisSubscription _changes;

    // Bumped by every invalidation: a lookup that raced one (read the old owner from Redis, then heard of the
    // change before storing it) must not store what it read.
    private long _generation;

    public MeetingOwnerCache(MeetingRegistry registry, IConnectionMultiplexer redis, TimeProvider time)
    {
        _registry = registry;
        _redis = redis;
        _time = time;
        _lifetimeTicks = (long)(Lifetime.TotalSeconds * time.TimestampFrequency);
        registry.OwnerChanged += Drop;
        redis.ConnectionRestored += OnConnectionRestored;
        _changes = new RedisSubscription(redis, MeetingRegistry.OwnerChangedChannel, (channel, member) => Drop(member.ToString()), time);
    }

    /// <summary>Subscribes to ownership changes; until that succeeds, every lookup goes to Redis.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _changes.TryAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<string?> FindServerIdAsync(string tenantId, string meetingId)
    {
        var member = MeetingRegistry.MeetingKey(tenantId, meetingId);
        var now = _time.GetTimestamp();
        if (_changes.IsHeld && _owners.TryGetValue(member, out var entry) && entry.ExpiresAt > now)
        {
            return entry.ServerId;
        }

        var generation = Interlocked.Read(ref _generation);
        var serverId = await _registry.FindServerIdAsync(tenantId, meetingId);
        if (serverId is not null && _changes.IsHeld && Interlocked.Read(ref _generation) == generation)
        {
            if (_owners.Count >= MaxEntries)
            {
                _owners.Clear();
            }

            _owners[member] = (serverId, now + _lifetimeTicks);
        }
        else
        {
            _owners.TryRemove(member, out _);
        }

        return serverId;
    }

    /// <summary>The owner this replica last knew, however old: for when Redis cannot be asked.</summary>
    public string? Remembered(string tenantId, string meetingId) =>
        _owners.TryGetValue(MeetingRegistry.MeetingKey(tenantId, meetingId), out var entry) ? entry.ServerId : null;

    /// <summary>Keeps an owner learnt while Redis cannot be asked (from the servers, or a placement) for <see cref="Remembered"/>.</summary>
    public void Remember(string tenantId, string meetingId, string serverId)
    {
        if (_owners.Count >= MaxEntries)
        {
            _owners.Clear();
        }

        _owners[MeetingRegistry.MeetingKey(tenantId, meetingId)] = (serverId, _time.GetTimestamp() + _lifetimeTicks);
    }

    /// <summary>Drops every owner: Redis answers again and is the authority.</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _owners.Clear();
    }

    /// <summary>Drops one meeting at once on this replica (the others hear of it through Redis).</summary>
    public void Invalidate(string tenantId, string meetingId) => _owners.TryRemove(MeetingRegistry.MeetingKey(tenantId, meetingId), out _);

    private void Drop(string member)
    {
        Interlocked.Increment(ref _generation);
        _owners.TryRemove(member, out _);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        _owners.Clear();
    }

    public void Dispose()
    {
        _registry.OwnerChanged -= Drop;
        _redis.ConnectionRestored -= OnConnectionRestored;
        _changes.Dispose();
    }
}
