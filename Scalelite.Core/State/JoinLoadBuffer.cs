using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>
/// The load that joins add to their servers, gathered in memory and written to the ranking in one Redis call
/// every <see cref="FlushInterval"/>; a placement on this replica takes what is pending into its own script.
/// </summary>
/// <remarks>
/// A join must raise its server's load at once, so that a burst of creates between two polls does not pile onto a
/// server that is filling up. One Redis command per join did that, but cost as much as the rest of the join: a
/// second network write per request, and the Redis server's own time. Gathered here, a thousand joins to one server
/// in the interval become one increment. A create on this replica takes the pending sums
/// (<see cref="TakeForPlacementAsync"/>) and its placement script applies them before it chooses, so it counts
/// every join this replica has routed, without a Redis round trip of its own. Other replicas see them within the
/// interval, which is short next to the poll interval that settles the real load anyway. What is pending when the
/// process dies is lost, which the next poll corrects.
/// <para>While Redis is down (<see cref="IRedisBreaker"/>) nothing is flushed: the sums keep growing, a placement made
/// without Redis counts them (<see cref="PendingFor"/>), and the first flush after Redis is back writes them.</para>
/// <para>Sums are kept in thousandths of a unit of load, so that adding is one <see cref="Interlocked.Add(ref long, long)"/>.</para>
/// </remarks>
public sealed partial class JoinLoadBuffer(LoadRanking ranking, IRedisBreaker breaker, TimeProvider time, ILogger<JoinLoadBuffer> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);
    private const double Scale = 1000;

    private sealed class Pending
    {
        public long Amount;
    }

    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    // The timer's write under way, if any: a placement waits for it, so that what it took is in the ranking too.
    private Task _flushing = Task.CompletedTask;

    /// <summary>Adds <paramref name="amount"/> to the server's load at the next flush; never waits.</summary>
    public void Add(string serverId, double amount)
    {
        if (!double.IsFinite(amount) || amount <= 0)
        {
            return;
        }

        Interlocked.Add(ref _pending.GetOrAdd(serverId, static _ => new Pending()).Amount, (long)Math.Round(amount * Scale));
    }

    /// <summary>The load gathered for one server and not written yet.</summary>
    public double PendingFor(string serverId) =>
        _pending.TryGetValue(serverId, out var pending) ? Volatile.Read(ref pending.Amount) / Scale : 0;

    /// <summary>
    /// Puts back sums taken for a Redis command that failed, for the next flush. Not after a timeout: a frozen Redis
    /// still runs the command when it wakes up, and a sum counted twice is worse than one the next poll replaces.
    /// </summary>
    internal void Return(IReadOnlyList<(string ServerId, double Amount)> taken, Exception failure)
    {
        if (failure is RedisTimeoutException)
        {
            return;
        }

        foreach (var (serverId, amount) in taken)
        {
            Add(serverId, amount);
        }
    }

    /// <summary>
    /// Takes every pending sum for a placement script to apply (<see cref="Pool.Placement.MeetingPlacement"/>), after the
    /// timer's write under way, if any, has landed. Joins added before the call are then either in the ranking or
    /// in the returned list.
    /// </summary>
    public async Task<IReadOnlyList<(string ServerId, double Amount)>> TakeForPlacementAsync()
    {
        var taken = Take();
        await Volatile.Read(ref _flushing);
        return taken;
    }

    /// <summary>Writes what has gathered to the ranking; errors are logged, never thrown.</summary>
    public Task FlushAsync()
    {
        if (breaker.IsOpen)
        {
            return Task.CompletedTask;
        }

        var taken = Take();
        if (taken.Count == 0)
        {
            return Task.CompletedTask;
        }

        var write = WriteAsync(taken);
        Volatile.Write(ref _flushing, write);
        return write;
    }

    private List<(string ServerId, double Amount)> Take()
    {
        var taken = new List<(string, double)>();
        foreach (var (serverId, pending) in _pending)
        {
            if (Volatile.Read(ref pending.Amount) != 0)
            {
                taken.Add((serverId, Interlocked.Exchange(ref pending.Amount, 0) / Scale));
            }
        }

        return taken;
    }

    private async Task WriteAsync(List<(string ServerId, double Amount)> taken)
    {
        try
        {
            await ranking.IncrementAsync(taken);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            // Kept for the first flush after Redis is back.
            Return(taken, ex);
        }
        catch (Exception ex)
        {
            // Best effort: the poller's next settle writes the real load; a lost increment only lasts until then.
            Log.FlushFailed(logger, ex);
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
        await FlushAsync().WaitAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not add the load of recent joins to the ranking; the next poll settles it")]
        public static partial void FlushFailed(ILogger logger, Exception exception);
    }
}
