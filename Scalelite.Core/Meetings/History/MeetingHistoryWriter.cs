using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Meetings.History;

/// <summary>
/// Writes the meeting history to PostgreSQL behind the services' backs: changes queue in memory and are written in
/// batches every <see cref="FlushInterval"/>, joins are summed in memory per meeting, and ended meetings are pruned
/// after <c>MEETING_HISTORY_DAYS</c>.
/// </summary>
/// <remarks>
/// <para>The history must never fail or slow what it records. A create only puts a change on a bounded queue
/// (<see cref="Capacity"/>), a join only adds one to a counter (like <see cref="State.JoinLoadBuffer"/> does for load):
/// a thousand joins to one meeting in an interval become one UPDATE. The writer takes up to <see cref="BatchSize"/>
/// changes and writes them as one batch, one round trip, in one transaction.</para>
/// <para>PostgreSQL outage: the batch that failed is kept and tried again each interval; the outage is logged once and
/// summarised (<see cref="OutageLog"/>), and the joins go on adding up in memory (one counter per meeting, however
/// long the outage). New changes wait in the queue; when it is full, further ones are dropped and counted
/// (<c>scalelite.meeting.history.dropped</c>), so memory stays bounded and the service unaffected. A batch PostgreSQL
/// refuses for another reason (a bug, not an outage) is logged and dropped rather than retried forever. What is
/// queued when a process stops is flushed on the way out if PostgreSQL answers; a crash loses it (best effort).</para>
/// </remarks>
public sealed partial class MeetingHistoryWriter : BackgroundService, IMeetingHistory
{
    public const int Capacity = 10_000;
    public const int BatchSize = 200;
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    // A counter whose meeting had no joins for a few flushes is retired (set far below zero) and removed, so a joiner
    // that still holds it sees a negative result and starts a new one: no join is lost to the removal.
    private const long Retired = long.MinValue / 2;
    private const int IdleFlushesBeforeRemoval = 3;

    private readonly Channel<MeetingHistoryChange> _queue = Channel.CreateBounded<MeetingHistoryChange>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private readonly ConcurrentDictionary<JoinKey, JoinCounter> _joins = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly IDbContextFactory<ScaleliteDbContext> _databases;
    private readonly DatabaseMigrator _migrator;
    private readonly IOptions<MeetingHistoryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<MeetingHistoryWriter> _logger;
    private readonly OutageLog _outage;
    private readonly Counter<long> _droppedCounter;
    private List<MeetingHistoryChange> _failed = [];
    private DateTimeOffset _nextPrune;
    private long _dropped;
    private long _reportedDrops;

    public MeetingHistoryWriter(
        IDbContextFactory<ScaleliteDbContext> databases, DatabaseMigrator migrator, IOptions<MeetingHistoryOptions> options, TimeProvider time,
        IMeterFactory meters, IHostEnvironment environment, ILogger<MeetingHistoryWriter> logger)
    {
        _databases = databases;
        _migrator = migrator;
        _options = options;
        _time = time;
        _logger = logger;
        _outage = new OutageLog(logger, "PostgreSQL", time);
        // The service's own meter (Scalelite.Api, Scalelite.Poller, Scalelite.RecordingSync): every service writes history.
        var meter = meters.Create(environment.ApplicationName);
        _droppedCounter = meter.CreateCounter<long>("scalelite.meeting.history.dropped", "{change}",
            "Meeting history changes dropped: the queue was full (PostgreSQL unavailable for long) or PostgreSQL refused them.");
        meter.CreateObservableGauge("scalelite.meeting.history.backlog", () => (long)_queue.Reader.Count + Volatile.Read(ref _failed).Count, "{change}",
            "Meeting history changes waiting to be written.");
    }

    private readonly record struct JoinKey(string Tenant, string MeetingId, string ServerId);

    private sealed class JoinCounter
    {
        public long Count;
        public int IdleFlushes;
    }

    /// <summary>Changes dropped since the start (queue full, or refused by PostgreSQL).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Add(MeetingHistoryChange change)
    {
        if (!_queue.Writer.TryWrite(change))
        {
            Drop(1);
        }
    }

    public void CountJoin(string tenant, string meetingId, string serverId) => AddJoins(new JoinKey(tenant, meetingId, serverId), 1);

    private void AddJoins(JoinKey key, long count)
    {
        while (true)
        {
            var counter = _joins.GetOrAdd(key, static _ => new JoinCounter());
            if (Interlocked.Add(ref counter.Count, count) > 0)
            {
                return;
            }

            // Retired while we held it: help remove it and count on a new one.
            _joins.TryRemove(new KeyValuePair<JoinKey, JoinCounter>(key, counter));
        }
    }

    /// <summary>
    /// Writes what is queued and the joins counted so far; returns false when PostgreSQL did not take them (they are
    /// kept for the next flush). The timer calls it every <see cref="FlushInterval"/>; tests and shutdown call it directly.
    /// </summary>
    public async Task<bool> FlushAsync(CancellationToken ct = default)
    {
        await _writing.WaitAsync(ct);
        try
        {
            return await FlushCoreAsync(ct);
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task<bool> FlushCoreAsync(CancellationToken ct)
    {
        var joins = new List<MeetingJoinsChange>();
        try
        {
            if (_failed.Count > 0)
            {
                await WriteAsync(_failed, ct);
                _failed = [];
            }

            // The queue first: a create is written before the joins it received, so that they find its row.
            await WriteBatchesAsync(() => _queue.Reader.TryRead(out var change) ? change : null, ct);
            joins = TakeJoins();
            await WriteBatchesAsync(() => joins.Count > 0 ? Pop(joins) : null, ct);
            await PruneIfDueAsync(ct);
            _outage.Succeeded();
            ReportDrops();
            return true;
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e))
        {
            // The batch in _failed is tried first next time; the joins not yet in a batch go back to their counters.
            _outage.Failed(e);
            Restore(joins);
            return false;
        }
        catch (Exception e) when (e is NpgsqlException or DbUpdateException or InvalidOperationException)
        {
            Log.WriteRefused(_logger, _failed.Count, e);
            Drop(_failed.Count);
            _failed = [];
            Restore(joins);
            return false;
        }
    }

    private async Task WriteBatchesAsync(Func<MeetingHistoryChange?> next, CancellationToken ct)
    {
        while (true)
        {
            var batch = new List<MeetingHistoryChange>(BatchSize);
            while (batch.Count < BatchSize && next() is { } change)
            {
                batch.Add(change);
            }

            if (batch.Count == 0)
            {
                return;
            }

            _failed = batch;
            await WriteAsync(batch, ct);
            _failed = [];
        }
    }

    private static MeetingJoinsChange Pop(List<MeetingJoinsChange> joins)
    {
        var last = joins[^1];
        joins.RemoveAt(joins.Count - 1);
        return last;
    }

    private void Restore(List<MeetingJoinsChange> joins)
    {
        foreach (var j in joins)
        {
            AddJoins(new JoinKey(j.Tenant, j.MeetingId, j.ServerId), j.Count);
        }

        joins.Clear();
    }

    private async Task WriteAsync(List<MeetingHistoryChange> changes, CancellationToken ct)
    {
        await using var db = await _databases.CreateDbContextAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var change in changes)
        {
            batch.BatchCommands.Add(change.ToCommand());
        }

        await batch.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>Takes the joins counted since the last flush, as changes; retires counters idle for a while.</summary>
    private List<MeetingJoinsChange> TakeJoins()
    {
        var now = _time.GetUtcNow();
        var changes = new List<MeetingJoinsChange>();
        foreach (var (key, counter) in _joins)
        {
            var count = Interlocked.Exchange(ref counter.Count, 0);
            if (count > 0)
            {
                counter.IdleFlushes = 0;
                changes.Add(new MeetingJoinsChange(key.Tenant, key.MeetingId, key.ServerId, count, now));
            }
            else if (++counter.IdleFlushes >= IdleFlushesBeforeRemoval && Interlocked.CompareExchange(ref counter.Count, Retired, 0) == 0)
            {
                _joins.TryRemove(new KeyValuePair<JoinKey, JoinCounter>(key, counter));
            }
        }

        return changes;
    }

    /// <summary>Deletes meetings ended more than <c>MEETING_HISTORY_DAYS</c> ago (and rows untouched as long), and their recordings.</summary>
    private async Task PruneIfDueAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (now < _nextPrune)
        {
            return;
        }

        var cutoff = now - TimeSpan.FromDays(_options.Value.Days);
        await using var db = await _databases.CreateDbContextAsync(ct);
        // A row never ended (its end was lost: a crash, a Redis TTL) goes once nothing touched it for as long.
        var meetings = await db.MeetingHistory.Where(h => h.EndedAt < cutoff || (h.EndedAt == null && h.UpdatedAt < cutoff)).ExecuteDeleteAsync(ct);
        var recordings = await db.MeetingHistoryRecordings
            .Where(r => r.ImportedAt < cutoff && !db.MeetingHistory.Any(h => h.InternalMeetingId == r.InternalMeetingId))
            .ExecuteDeleteAsync(ct);
        _nextPrune = now + PruneEvery;
        if (meetings + recordings > 0)
        {
            Log.Pruned(_logger, meetings, recordings, _options.Value.Days);
        }
    }

    private void Drop(long count)
    {
        if (count <= 0)
        {
            return;
        }

        _droppedCounter.Add(count);
        if (Interlocked.Add(ref _dropped, count) - count == Volatile.Read(ref _reportedDrops))
        {
            Log.Dropping(_logger, Capacity);
        }
    }

    /// <summary>Once PostgreSQL takes the history again, says how much of it was lost meanwhile.</summary>
    private void ReportDrops()
    {
        var dropped = Interlocked.Read(ref _dropped);
        var reported = Volatile.Read(ref _reportedDrops);
        if (dropped > reported)
        {
            Volatile.Write(ref _reportedDrops, dropped);
            Log.Dropped(_logger, dropped - reported);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _migrator.Migrated.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops the timer, then writes what is still queued, within the host's shutdown time.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_migrator.Migrated.IsCompletedSuccessfully)
        {
            try
            {
                await FlushAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public override void Dispose()
    {
        _writing.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "PostgreSQL refused {Count} meeting history changes; they are dropped")]
        public static partial void WriteRefused(ILogger logger, int count, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "The meeting history queue is full ({Capacity} changes waiting for PostgreSQL): further changes are dropped and counted in scalelite.meeting.history.dropped")]
        public static partial void Dropping(ILogger logger, int capacity);

        [LoggerMessage(4, LogLevel.Warning, "{Count} meeting history changes were dropped while they could not be written")]
        public static partial void Dropped(ILogger logger, long count);

        [LoggerMessage(3, LogLevel.Information, "Pruned the history of {Meetings} meetings and {Recordings} recordings older than {Days} days")]
        public static partial void Pruned(ILogger logger, int meetings, int recordings, int days);
    }
}
