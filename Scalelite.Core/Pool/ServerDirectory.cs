using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool;

/// <summary>The pool as the API sees it: a snapshot of every server, kept in memory and refreshed from PostgreSQL.</summary>
public interface IServerDirectory
{
    IReadOnlyList<ServerSnapshot> All { get; }

    ServerSnapshot? Find(string id);

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
    : BackgroundService, IServerDirectory
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);
    private volatile Snapshot _snapshot = new([], FrozenDictionary<string, ServerSnapshot>.Empty);
    private readonly SemaphoreSlim _gate = new(1, 1);

    private sealed record Snapshot(IReadOnlyList<ServerSnapshot> All, FrozenDictionary<string, ServerSnapshot> ById);

    public IReadOnlyList<ServerSnapshot> All => _snapshot.All;

    public ServerSnapshot? Find(string id) => _snapshot.ById.GetValueOrDefault(id);

    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var servers = await db.Servers.AsNoTracking().OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
            var list = servers.Select(ServerSnapshot.From).ToArray();
            _snapshot = new Snapshot(list, list.ToFrozenDictionary(s => s.Id));
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
