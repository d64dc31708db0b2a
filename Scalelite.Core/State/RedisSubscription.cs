using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>A Redis pub/sub subscription that is made at start and made again until it holds.</summary>
/// <remarks>
/// <para>SUBSCRIBE fails in two ways: Redis cannot be reached (<see cref="RedisConnectionException"/>), or it answers
/// too slowly (<see cref="RedisTimeoutException"/>, a <see cref="TimeoutException"/> and not a
/// <see cref="RedisException"/>). Neither may stop a service from starting. Every user has a fallback while it is
/// not subscribed (lookups go to Redis, the periodic reload serves). So a failed attempt is retried every
/// <see cref="RetryInterval"/>, and at once when the connection is restored, until one succeeds.</para>
/// <para>Once made, StackExchange.Redis restores the subscription after a reconnect by itself. A failed attempt
/// withdraws its handler, so an attempt that Redis carried out late does not deliver every message twice.</para>
/// </remarks>
public sealed class RedisSubscription : IDisposable
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisChannel _channel;
    private readonly Action<RedisChannel, RedisValue> _handler;
    private readonly Action<Exception>? _failed;
    private readonly ITimer _retry;
    private int _attempting;
    private volatile bool _held;

    /// <param name="failed">Told of each failed attempt (for a log line); the retry is this class's.</param>
    public RedisSubscription(IConnectionMultiplexer redis, RedisChannel channel, Action<RedisChannel, RedisValue> handler, TimeProvider time, Action<Exception>? failed = null)
    {
        _redis = redis;
        _channel = channel;
        _handler = handler;
        _failed = failed;
        _retry = time.CreateTimer(_ => _ = TryAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        redis.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>Whether messages on the channel reach the handler.</summary>
    public bool IsHeld => _held;

    /// <summary>Subscribes unless already subscribed or an attempt is under way; on failure, tries again later.</summary>
    public async Task<bool> TryAsync()
    {
        if (_held || Interlocked.Exchange(ref _attempting, 1) == 1)
        {
            return _held;
        }

        try
        {
            await _redis.GetSubscriber().SubscribeAsync(_channel, _handler);
            _held = true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _failed?.Invoke(ex);
            Withdraw();
            _retry.Change(RetryInterval, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            Volatile.Write(ref _attempting, 0);
        }

        return _held;
    }

    private void Withdraw()
    {
        try
        {
            _redis.GetSubscriber().Unsubscribe(_channel, _handler, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Nothing to withdraw that Redis knows of.
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _ = TryAsync();

    public void Dispose()
    {
        _redis.ConnectionRestored -= OnConnectionRestored;
        _retry.Dispose();
    }
}
