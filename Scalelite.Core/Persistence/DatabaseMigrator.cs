using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Scalelite.Core.Persistence;

/// <summary>
/// Applies EF Core migrations at start-up. Every service runs it; a PostgreSQL advisory lock makes
/// concurrent starts (several replicas, or Api and Poller together) take turns instead of racing.
/// </summary>
public sealed partial class DatabaseMigrator(IServiceProvider services, ILogger<DatabaseMigrator> logger) : BackgroundService, IHealthCheck
{
    private const long LockKey = 0x5CA1E11E;
    private readonly TaskCompletionSource _migrated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the schema is up to date; services that need the tables wait on it.</summary>
    public Task Migrated => _migrated.Task;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_migrated.Task.IsCompletedSuccessfully ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Database migrations have not been applied yet."));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await MigrateAsync(stoppingToken);
                _migrated.TrySetResult();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                Log.MigrationFailed(logger, delay.TotalSeconds, ex);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 5));
            }
        }
    }

    private async Task MigrateAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaleliteDbContext>();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_lock({LockKey})", ct);
            // The provider learns whether the history table exists by querying it, and EF logs that query's failure
            // on a new database as an error; with the table made first (under the lock, as CREATE TABLE IF NOT EXISTS
            // races) a first start logs none.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);
            await db.Database.MigrateAsync(ct);
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }

        Log.Migrated(logger);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Database not ready for migrations; retrying in {Seconds} s")]
        public static partial void MigrationFailed(ILogger logger, double seconds, Exception ex);

        [LoggerMessage(LogLevel.Information, "Database migrations applied")]
        public static partial void Migrated(ILogger logger);
    }
}
