using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Persistence;

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
internal sealed partial class ServerDirectory(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    DatabaseMigrator migrator,
    TimeProvider time,
    ILogger<ServerDirectory> logger)
    : BackgroundService, IServerDirectory, IHealthCheck
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);
    private volatile Snapshot _snapshot = new([], FrozenDictionary<string, ServerSnapshot>.Empty);
    private readonly SemaphoreSlim _gate = new(1, 1);

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
            var list = servers.Select(ServerSnapshot.From).ToArray();
            _snapshot = new Snapshot(list, list.ToFrozenDictionary(s => s.Id));
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
        using var timer = new PeriodicTimer(RefreshEvery, time);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Before migrations or during a database outage the last snapshot keeps serving.
                Log.RefreshFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Debug, "Server directory refresh failed: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string reason);
    }
}
