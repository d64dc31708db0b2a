using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;
using Scalelite.Core.State;

namespace Scalelite.Core.Pool;

/// <summary>The pool as the API sees it: a snapshot of every server, kept in memory and refreshed from PostgreSQL.</summary>
public interface IServerDirectory
{
    IReadOnlyList<ServerSnapshot> All { get; }

    ServerSnapshot? Find(string id);

    /// <summary>
    /// Like <see cref="Find"/>, but a miss is checked against the database before it is believed: the snapshot may
    /// not have loaded yet, or another replica may have just added the server. Null means the server does not exist.
    /// </summary>
    Task<ServerSnapshot?> ResolveAsync(string id, CancellationToken ct = default);

    /// <summary>The snapshot has been loaded from the database at least once.</summary>
    bool IsLoaded { get; }

    /// <summary>Reloads now (after an admin change, so that this replica sees it at once).</summary>
    Task RefreshAsync(CancellationToken ct = default);
}

/// <summary>
/// Keeps <see cref="IServerDirectory"/> fresh: a reload every second is cheap (one small query) and bounds how
/// long another replica's admin change or the poller's health verdict takes to reach this one.
/// </summary>
/// <remarks>
/// The snapshot is PostgreSQL's record with the poller's unsaved verdicts laid over it (<see cref="UnsavedVerdicts"/>):
/// while PostgreSQL is down the record cannot be reloaded, but the poller still judges health and publishes its
/// verdicts in Redis, read here every second as well, so a server that dies during the outage leaves placement and
/// routing all the same. Each source is read on its own loop: one that hangs (Redis frozen) does not hold up the
/// other. A failing source keeps its last good state. PostgreSQL's outage is logged here, once and then at an interval;
/// Redis's by <see cref="IRedisBreaker"/>, and while it is open the verdicts are not read at all. The poller writes its
/// verdicts to PostgreSQL during a Redis outage, and a record newer than a verdict held wins over it.
/// </remarks>
internal sealed partial class ServerDirectory(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    DatabaseMigrator migrator,
    UnsavedVerdicts verdicts,
    IRedisBreaker breaker,
    TimeProvider time,
    ILogger<ServerDirectory> logger)
    : BackgroundService, IServerDirectory, IHealthCheck
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);
    private volatile Snapshot _snapshot = new([], FrozenDictionary<string, ServerSnapshot>.Empty);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _compose = new();
    private IReadOnlyList<Server> _records = [];
    private IReadOnlyDictionary<string, HealthVerdict> _verdicts = FrozenDictionary<string, HealthVerdict>.Empty;
    private readonly OutageLog _postgres = new(logger, "PostgreSQL", time);

    private sealed record Snapshot(IReadOnlyList<ServerSnapshot> All, FrozenDictionary<string, ServerSnapshot> ById);

    public IReadOnlyList<ServerSnapshot> All => _snapshot.All;

    public ServerSnapshot? Find(string id) => _snapshot.ById.GetValueOrDefault(id);

    public bool IsLoaded { get; private set; }

    public async Task<ServerSnapshot?> ResolveAsync(string id, CancellationToken ct = default)
    {
        if (Find(id) is { } known)
        {
            return known;
        }

        await migrator.Migrated.WaitAsync(ct);
        await RefreshAsync(ct);
        return Find(id);
    }

    /// <summary>Ready once the snapshot has loaded: before that, the API cannot tell a missing server from an unloaded one.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(IsLoaded ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The server list has not been loaded yet."));

    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var servers = await db.Servers.AsNoTracking().OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
            Compose(servers, null);
            IsLoaded = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrator.Migrated.WaitAsync(stoppingToken);
        await Task.WhenAll(EverySecondAsync(ReloadRecordAsync, stoppingToken), EverySecondAsync(ReadVerdictsAsync, stoppingToken));
    }

    private async Task ReloadRecordAsync(CancellationToken ct)
    {
        try
        {
            await RefreshAsync(ct);
            _postgres.Succeeded();
        }
        catch (Exception ex) when (DatabaseOutage.IsOutage(ex))
        {
            _postgres.Failed(ex);
        }
    }

    private async Task ReadVerdictsAsync(CancellationToken ct)
    {
        if (breaker.IsOpen)
        {
            return;
        }

        try
        {
            Compose(null, await verdicts.ReadAsync().WaitAsync(ct));
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
        }
    }

    /// <summary>Runs <paramref name="refresh"/> every second; during an outage of its source the last snapshot keeps serving.</summary>
    private async Task EverySecondAsync(Func<CancellationToken, Task> refresh, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshEvery, time);
        do
        {
            try
            {
                await refresh(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RefreshFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Swaps in a snapshot built from the newest record and verdicts (null: keep the ones held).</summary>
    private void Compose(IReadOnlyList<Server>? records, IReadOnlyDictionary<string, HealthVerdict>? published)
    {
        lock (_compose)
        {
            _records = records ?? _records;
            _verdicts = published ?? _verdicts;
            var list = _records.Select(s => UnsavedVerdicts.Apply(s, _verdicts.GetValueOrDefault(s.Id))).ToArray();
            _snapshot = new Snapshot(list, list.ToFrozenDictionary(s => s.Id));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Error, "Server directory refresh failed")]
        public static partial void RefreshFailed(ILogger logger, Exception ex);
    }
}
