using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Diagnostics;
using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>Whether Redis may be called now: one circuit breaker for every Redis caller of the process.</summary>
public interface IRedisBreaker
{
    /// <summary>Redis failed and has not answered since: callers take their way without it, at once.</summary>
    bool IsOpen { get; }

    /// <summary>
    /// For exception filters around Redis calls: true when <paramref name="exception"/> is Redis being down (no
    /// connection, no answer within <c>Redis__Timeout</c>), which opens the breaker; false for anything else.
    /// </summary>
    bool Trips(Exception exception);

    /// <summary>
    /// Something to run once Redis answers again, before the breaker closes, and once more just after: a component
    /// writes back what it kept in memory meanwhile. One that meets Redis down again keeps the breaker open; all run
    /// again at the next probe, so each must be safe to repeat.
    /// </summary>
    void OnRecovery(Func<CancellationToken, Task> recover);
}

/// <summary>The circuit breaker in front of Redis, and the <c>/health</c> check that reports it.</summary>
/// <remarks>
/// <para>Closed, every call goes to Redis. The first call that fails because Redis is down opens it: the connection
/// is gone, or a command got no answer within <c>Redis__Timeout</c> (a stopped Redis fails at once, a frozen one
/// costs that timeout). One failure is enough: a Redis that leaves a small command unanswered that long is not one
/// to wait for, and an open breaker only sends callers their way without Redis, which works. From then on callers
/// check <see cref="IsOpen"/> (one field read) and do not call Redis at all, so an outage costs them nothing.</para>
/// <para>While open, a probe PINGs Redis every <see cref="ProbeInterval"/>, and at once when the client reconnects.
/// When Redis answers, the recovery steps run (<see cref="OnRecovery"/>), then the breaker closes.</para>
/// <para>The outage is logged through <see cref="OutageLog"/>: when it begins, as a summary at most once per
/// <see cref="OutageLog.DefaultInterval"/> while it lasts (the failed probes and calls counted), and when it ends; one
/// line each, without stack traces, however many calls it touched. Callers that check the breaker log nothing of
/// their own about Redis being down.</para>
/// <para>The health check answers within <see cref="HealthWait"/> even before the breaker knows: a PING still
/// unanswered then reports <c>Degraded</c> at once, and is left to finish on its own; if it runs into the command
/// timeout, that opens the breaker as any call would. A slow answer alone does not open it, so a loaded Redis does not
/// send the replica its way without Redis because of a probe.</para>
/// </remarks>
public sealed partial class RedisBreaker : IRedisBreaker, IHealthCheck, IDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long <c>/health</c> waits for Redis's PING: a readiness probe must not wait on a frozen Redis.</summary>
    public static readonly TimeSpan HealthWait = TimeSpan.FromMilliseconds(300);

    private const int Closed = 0;
    private const int Open = 1;

    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisBreaker> _logger;
    private readonly List<Func<CancellationToken, Task>> _steps = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly OutageLog _outage;
    private int _state;
    private int _disposed;
    private TaskCompletionSource _reconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RedisBreaker(IConnectionMultiplexer redis, TimeProvider time, ILogger<RedisBreaker> logger)
    {
        _redis = redis;
        _time = time;
        _logger = logger;
        _outage = new OutageLog(logger, "Redis", time);
        redis.ConnectionRestored += OnConnectionRestored;
    }

    public bool IsOpen => Volatile.Read(ref _state) == Open;

    public bool Trips(Exception exception)
    {
        if (!IsOutage(exception))
        {
            return false;
        }

        _outage.Failed(exception);
        if (Interlocked.CompareExchange(ref _state, Open, Closed) == Closed)
        {
            if (Volatile.Read(ref _disposed) == 0)
            {
                _ = Task.Run(ProbeUntilRecoveredAsync);
            }
        }

        return true;
    }

    public void OnRecovery(Func<CancellationToken, Task> recover)
    {
        lock (_steps)
        {
            _steps.Add(recover);
        }
    }

    /// <summary>Redis being down, as opposed to a command Redis refused (a script error, a wrong type): only the former opens the breaker.</summary>
    public static bool IsOutage(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        // Loading its data after a restart, or stuck in a script: it answers, but serves nothing.
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>Degraded at once while the breaker is open; otherwise a PING, which the Redis timeout bounds.</summary>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!IsOpen)
        {
            var ping = _redis.GetDatabase().PingAsync();
            try
            {
                await ping.WaitAsync(HealthWait, _time, cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (TimeoutException) when (!ping.IsCompleted)
            {
                _ = ping.ContinueWith(t => Trips(t.Exception!.GetBaseException()), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                return HealthCheckResult.Degraded($"Redis did not answer a PING within {HealthWait.TotalMilliseconds:F0} ms.");
            }
            catch (Exception ex) when (Trips(ex))
            {
            }
        }

        return HealthCheckResult.Degraded("Redis does not answer: meetings are found and placed without it until it does.");
    }

    private async Task ProbeUntilRecoveredAsync()
    {
        CancellationToken stopping;
        try
        {
            stopping = _stopping.Token;
        }
        catch (ObjectDisposedException)
        {
            // The process is stopping.
            return;
        }

        while (true)
        {
            try
            {
                await Task.WhenAny(Volatile.Read(ref _reconnected).Task, Task.Delay(ProbeInterval, _time, stopping));
                stopping.ThrowIfCancellationRequested();
                await _redis.GetDatabase().PingAsync();
                await RunStepsAsync(stopping);
                break;
            }
            catch (Exception ex) when (IsOutage(ex))
            {
                _outage.Failed(ex);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }

        Interlocked.Exchange(ref _state, Closed);
        _outage.Succeeded();
        try
        {
            // A call that chose its way without Redis just before the close may have kept something back meanwhile.
            await RunStepsAsync(stopping);
        }
        catch (Exception ex) when (IsOutage(ex))
        {
            // Down again already: a new probe takes over.
            Trips(ex);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task RunStepsAsync(CancellationToken ct)
    {
        Func<CancellationToken, Task>[] steps;
        lock (_steps)
        {
            steps = [.. _steps];
        }

        foreach (var step in steps)
        {
            try
            {
                await step(ct);
            }
            catch (Exception ex) when (!IsOutage(ex) && !ct.IsCancellationRequested)
            {
                // Not Redis: the step keeps what it could not write for the next recovery; the breaker closes anyway.
                // Logged in full: steps run twice per recovery, so this cannot flood.
                Log.StepFailed(_logger, ex);
            }
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        Interlocked.Exchange(ref _reconnected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    // Registered as itself and as IRedisBreaker, so the container disposes it twice.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _redis.ConnectionRestored -= OnConnectionRestored;
            _stopping.Cancel();
            _stopping.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Error, "A recovery step after a Redis outage failed; it is tried again at the next recovery")]
        public static partial void StepFailed(ILogger logger, Exception exception);
    }
}
