using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Tenants;
using StackExchange.Redis;

namespace Scalelite.Core.Tenancy;

/// <summary>The tenants as the API sees them: a snapshot kept in memory, so that resolving a request is a dictionary lookup.</summary>
/// <remarks>
/// The snapshot is immutable and swapped as one reference; readers never lock. It is reloaded from PostgreSQL when a
/// change is announced (<see cref="TenantChanges"/>: every replica reloads at once and confirms), when the Redis
/// connection comes back (announcements may have been missed), and every <see cref="TenancyOptions.ReloadInterval"/>
/// as a backstop. The poller's per-tenant counts (<see cref="TenantUsageStore"/>) are read every second while some
/// tenant has a participant limit, which is the only limit checked on the join path.
/// </remarks>
public sealed partial class TenantDirectory(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    DatabaseMigrator migrator,
    IConnectionMultiplexer redis,
    TenantChanges changes,
    TenantUsageStore usageStore,
    IOptions<TenancyOptions> options,
    TimeProvider time,
    ILogger<TenantDirectory> logger)
    : BackgroundService, IHealthCheck
{
    private static readonly TimeSpan UsageEvery = TimeSpan.FromSeconds(1);
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private volatile FrozenDictionary<string, TenantUsage> _usage = FrozenDictionary<string, TenantUsage>.Empty;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _loaded;

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        public Snapshot(IReadOnlyList<Tenant> all)
        {
            All = all;
            ById = all.ToFrozenDictionary(t => t.Id, StringComparer.Ordinal);
            ByName = all.ToFrozenDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
            HasParticipantLimit = all.Any(t => t.Limits.MaxParticipants is not null);
        }

        public IReadOnlyList<Tenant> All { get; }

        public FrozenDictionary<string, Tenant> ById { get; }

        public FrozenDictionary<string, Tenant>.AlternateLookup<ReadOnlySpan<char>> ByName { get; }

        public bool HasParticipantLimit { get; }
    }

    public IReadOnlyList<Tenant> All => _snapshot.All;

    /// <summary>The tenant reached by this host label or path segment (case-insensitive), without allocating.</summary>
    public Tenant? FindByName(ReadOnlySpan<char> name) => _snapshot.ByName.TryGetValue(name, out var tenant) ? tenant : null;

    public Tenant? FindById(string id) => _snapshot.ById.GetValueOrDefault(id);

    /// <summary>What the poller last counted of a tenant (zero when it saw nothing).</summary>
    public TenantUsage UsageOf(string tenantId) => _usage.GetValueOrDefault(tenantId);

    public bool IsLoaded => _loaded;

    /// <summary>Ready once the tenants have been loaded: before that every tenant's request would be refused.</summary>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_loaded ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The tenants have not been loaded yet."));

    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var rows = await db.Tenants.AsNoTracking().Include(t => t.Settings).OrderBy(t => t.Name).ToListAsync(ct);
            _snapshot = new Snapshot([.. rows.Select(ToTenant)]);
            _loaded = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The request-path view of a stored tenant.</summary>
    public static Tenant ToTenant(TenantRow row) => new(row.Id, row.Name, row.SecretList())
    {
        Parameters = TenantParameters.From(row.Settings.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)
            .Select(s => (s.Param, s.Value, s.Override, s.Scope))),
        Limits = new TenantLimits(row.MaxMeetings, row.MaxParticipants, row.MaxMeetingParticipants),
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrator.Migrated.WaitAsync(stoppingToken);
        redis.ConnectionRestored += OnConnectionRestored;
        // Until it holds, the periodic reload serves (RedisSubscription retries).
        using var announcements = new State.RedisSubscription(
            redis, changes.Channel, (channel, message) => _ = OnChangedAsync((long)message), time, ex => Log.RefreshFailed(logger, ex.Message));
        try
        {
            await announcements.TryAsync();
            var reloadEvery = TimeSpan.FromSeconds(options.Value.ReloadInterval);
            using var timer = new PeriodicTimer(reloadEvery < UsageEvery ? reloadEvery : UsageEvery, time);
            var lastReload = long.MinValue;
            do
            {
                try
                {
                    if (lastReload == long.MinValue || time.GetElapsedTime(lastReload) >= reloadEvery)
                    {
                        lastReload = time.GetTimestamp();
                        await RefreshAsync(stoppingToken);
                    }

                    if (_snapshot.HasParticipantLimit)
                    {
                        _usage = (await usageStore.ReadAsync()).ToFrozenDictionary(StringComparer.Ordinal);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OperationCanceledException)
                {
                    // During a database or Redis outage the last snapshot keeps serving.
                    Log.RefreshFailed(logger, ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private async Task OnChangedAsync(long? generation)
    {
        try
        {
            await RefreshAsync();
            if (generation is { } announced)
            {
                await changes.AcknowledgeAsync(announced);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.RefreshFailed(logger, ex.Message);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // Announcements made while the connection was down were lost.
        _ = OnChangedAsync(null);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Tenant reload failed, the last snapshot keeps serving: {Reason}")]
        public static partial void RefreshFailed(ILogger logger, string reason);
    }
}
