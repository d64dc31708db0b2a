using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool.Capacity;

/// <summary>Reads the servers and reports the pool's headroom.</summary>
public sealed class HeadroomService(IDbContextFactory<ScaleliteDbContext> dbFactory)
{
    public async Task<HeadroomReport> ReportAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return HeadroomCalculator.Compute(await db.Servers.AsNoTracking().ToListAsync(ct));
    }
}

/// <summary>
/// Degraded (never Unhealthy) when the pool cannot lose its largest node: the service works, but an operator
/// should add capacity. ASP.NET Core answers Degraded on /health with HTTP 200 and the body "Degraded", so
/// readiness probes keep passing while monitoring sees the warning. Until the schema is migrated there is no server
/// table to read: the migrations check reports that, and this one does not query.
/// </summary>
public sealed class HeadroomHealthCheck(HeadroomService headroom, DatabaseMigrator migrator) : IHealthCheck
{
    public const string Name = "headroom";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!migrator.Migrated.IsCompletedSuccessfully)
        {
            return HealthCheckResult.Healthy("headroom unknown until the database is migrated");
        }

        HeadroomReport report;
        try
        {
            report = await headroom.ReportAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database check reports the outage; this one has nothing to add.
            return HealthCheckResult.Healthy("headroom unknown: " + e.Message);
        }

        return report.SurvivesLargestLoss ? HealthCheckResult.Healthy(report.Summary) : HealthCheckResult.Degraded(report.Summary);
    }
}
