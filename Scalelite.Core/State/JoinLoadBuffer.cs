using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>
/// The load that joins add to their servers, gathered in memory and written to the ranking in one Redis call
/// every <see cref="FlushInterval"/>, and before this replica places a meeting.
/// </summary>
/// <remarks>
/// A join must raise its server's load at once, so that a burst of creates between two polls does not pile onto a
/// server that is filling up. One Redis command per join did that, but cost as much as the rest of the join: a
/// second network write per request, and the Redis server's own time. Gathered here, a thousand joins to one server
/// in the interval become one increment. Placement on this replica flushes first (<see cref="FlushAsync"/>), so it
/// sees every join this replica has routed; other replicas see them within the interval, which is short next to the
/// poll interval that settles the real load anyway. What is pending when the process dies is lost, which the next
/// poll corrects.
/// </remarks>
public sealed partial class JoinLoadBuffer(LoadRanking ranking, TimeProvider time, ILogger<JoinLoadBuffer> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    private sealed class Pending
    {
        public double Amount;
    }

    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>Adds <paramref name="amount"/> to the server's load at the next flush; never waits.</summary>
    public void Add(string serverId, double amount)
    {
        var pending = _pending.GetOrAdd(serverId, static _ => new Pending());
        double seen, next;
        do
        {
            seen = Volatile.Read(ref pending.Amount);
            next = seen + amount;
        }
        while (Interlocked.CompareExchange(ref pending.Amount, next, seen) != seen);
    }

    /// <summary>
    /// Writes what has gathered to the ranking. Waits for a flush already under way, so that once this returns
    /// every join added before the call is in the ranking.
    /// </summary>
    public async Task FlushAsync()
    {
        await _flushing.WaitAsync();
        try
        {
            List<(string ServerId, double Amount)>? taken = null;
            foreach (var (serverId, pending) in _pending)
            {
                if (Volatile.Read(ref pending.Amount) != 0)
                {
                    (taken ??= []).Add((serverId, Interlocked.Exchange(ref pending.Amount, 0)));
                }
            }

            if (taken is not null)
            {
                await ranking.IncrementAsync(taken);
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The poller's next settle writes the real load; a lost increment only lasts until then.
            Log.FlushFailed(logger, ex);
        }
        finally
        {
            _flushing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops the timer, then writes what is still pending (also when the timer never got to run).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync();
    }

    public override void Dispose()
    {
        _flushing.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add the load of recent joins to the ranking; the next poll settles it")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }
}
