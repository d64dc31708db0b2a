using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;
using Scalelite.Core.State;
using StackExchange.Redis;

namespace Scalelite.Api.Meetings;

/// <summary>
/// Where a create's callbacks wait while PostgreSQL does not answer: a Redis list (<c>sl:outbox:callbacks</c>), moved
/// into the <c>callbacks</c> table once PostgreSQL answers again.
/// </summary>
/// <remarks>
/// <para>Why Redis: every API replica can write it and flush it, so the callbacks outlive the replica that took them
/// (a container replaced during the outage takes nothing with it), and it is the store creates already depend on.
/// The price: Redis is otherwise derived state, and a Redis that loses its data while PostgreSQL is still down (a
/// restart without persistence) loses the callbacks waiting there. When Redis cannot take them either, the create
/// is undone instead (<see cref="MeetingCreator"/>), so no callback is ever dropped silently.</para>
/// <para>Crash safety: an entry is removed only after the transaction that stored it has committed, and a flush skips
/// an entry whose callback is already stored (same meeting, internal meeting ID, kind and URL). A replica that dies
/// between the two steps, or two replicas flushing at once, therefore store each callback once. Each entry carries an
/// id of its own, so removing one never removes a twin.</para>
/// <para>While Redis is down (<see cref="IRedisBreaker"/> open) the outbox takes nothing, at once, and is not looked
/// at; Redis's outage is the breaker's to log.</para>
/// <para>Every replica looks at the list every <see cref="FlushEvery"/> (a length check, nothing more while it is
/// empty). RecordingSync turns captured callbacks into deliveries when a recording is imported; a recording imported
/// in the seconds between PostgreSQL's return and the flush would miss its callback, but a recording needs its meeting
/// to end and be processed first, which takes far longer.</para>
/// </remarks>
public sealed partial class CallbackOutbox(
    IConnectionMultiplexer redis,
    IDbContextFactory<ScaleliteDbContext> databases,
    DatabaseMigrator migrator,
    IRedisBreaker breaker,
    TimeProvider time,
    ILogger<CallbackOutbox> logger) : BackgroundService
{
    public const string Key = "sl:outbox:callbacks";

    private const int Batch = 100;
    private static readonly TimeSpan FlushEvery = TimeSpan.FromSeconds(2);

    private readonly OutageLog _postgres = new(logger, "PostgreSQL", time);

    private sealed record Entry(string Id, string TenantId, string MeetingId, string? InternalMeetingId, string Kind, string Url, DateTimeOffset CreatedAt);

    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Keeps the callbacks of a meeting just created until PostgreSQL takes them. False when Redis is down (at once while
    /// the breaker is open); other failures throw.
    /// </summary>
    public async Task<bool> TryAddAsync(string tenantId, string meetingId, string? internalMeetingId, CapturedCallbacks captured)
    {
        if (breaker.IsOpen)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var entries = CallbackCapture.Rows(captured)
            .Select(row => (RedisValue)JsonSerializer.Serialize(new Entry(Guid.NewGuid().ToString("N"), tenantId, meetingId, internalMeetingId, row.Kind, row.Url, now)))
            .ToArray();
        try
        {
            await Db.ListRightPushAsync(Key, entries);
            return true;
        }
        catch (Exception e) when (breaker.Trips(e))
        {
            // A push that timed out may still land when Redis wakes: a captured callback of a meeting that never ran,
            // which no recording will ever claim.
            return false;
        }
    }

    /// <summary>Moves up to one batch from the outbox into PostgreSQL; returns how many entries it took out.</summary>
    public async Task<int> FlushAsync(CancellationToken ct)
    {
        var values = await Db.ListRangeAsync(Key, 0, Batch - 1);
        if (values.Length == 0)
        {
            return 0;
        }

        var entries = values.Select(v => (Value: v, Entry: Parse(v))).ToList();
        await using (var db = await databases.CreateDbContextAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            foreach (var entry in entries.Select(e => e.Entry).OfType<Entry>())
            {
                var stored = await db.Callbacks.AnyAsync(c => c.TenantId == entry.TenantId && c.MeetingId == entry.MeetingId
                    && c.InternalMeetingId == entry.InternalMeetingId && c.Kind == entry.Kind && c.Url == entry.Url && c.RecordId == null, ct);
                if (!stored)
                {
                    db.Callbacks.Add(CallbackCapture.Captured(entry.TenantId, entry.MeetingId, entry.InternalMeetingId, entry.Kind, entry.Url, entry.CreatedAt));
                }
            }

            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }

        // Only now out of Redis: a crash before this leaves entries the next flush finds stored, and skips.
        var batch = Db.CreateBatch();
        var removals = entries.Select(e => batch.ListRemoveAsync(Key, e.Value, 1)).ToList();
        batch.Execute();
        await Task.WhenAll(removals);
        Log.Flushed(logger, entries.Count);
        return entries.Count;
    }

    private Entry? Parse(RedisValue value)
    {
        try
        {
            return JsonSerializer.Deserialize<Entry>(value.ToString());
        }
        catch (JsonException e)
        {
            // Not ours to keep: it would block the outbox forever.
            Log.Unreadable(logger, e.Message);
            return null;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrator.Migrated.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(FlushEvery, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (breaker.IsOpen)
            {
                continue;
            }

            try
            {
                if (await Db.ListLengthAsync(Key) == 0)
                {
                    continue;
                }

                while (await FlushAsync(stoppingToken) == Batch)
                {
                }

                _postgres.Succeeded();
            }
            catch (Exception e) when (DatabaseOutage.IsOutage(e))
            {
                _postgres.Failed(e);
            }
            catch (Exception e) when (breaker.Trips(e))
            {
                // Logged by the breaker; the entries wait in Redis for the next flush.
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.FlushFailed(logger, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Stored {Count} callbacks kept in the outbox while PostgreSQL was unavailable")]
        public static partial void Flushed(ILogger logger, int count);

        [LoggerMessage(LogLevel.Error, "Dropped an unreadable callback outbox entry: {Error}")]
        public static partial void Unreadable(ILogger logger, string error);

        [LoggerMessage(LogLevel.Error, "Flushing the callback outbox failed")]
        public static partial void FlushFailed(ILogger logger, Exception ex);
    }
}
