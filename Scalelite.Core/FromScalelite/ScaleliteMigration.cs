using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Recordings;
using Scalelite.Core.State;

namespace Scalelite.Core.FromScalelite;

/// <summary>Refused before anything was read or written, with the reason for the operator.</summary>
public sealed class MigrationRefusedException(string message) : Exception(message);

/// <summary>
/// Moves a running Scalelite's state here: servers, tenants with their settings, running meetings, the recordings
/// index and the captured callbacks. Scalelite's data is only read (<see cref="ScaleliteSource"/>).
/// </summary>
/// <remarks>
/// <para>The steps run in this order because each needs what the one before established: servers first (meetings
/// name them), then tenants (every later row asks which tenant it belongs to), running meetings (which also say which
/// meetingIDs are a tenant's), recordings, and last the callbacks, whose tenant comes from their meeting.</para>
/// <para>Running it again is safe: rows are matched by Scalelite's keys, and a ledger of what was written decides
/// which side wins when a row changed since (<see cref="SyncRule"/>). A second run against an unchanged Scalelite
/// changes nothing; a run after Scalelite kept working adds what is new and takes what changed only there.</para>
/// </remarks>
public sealed class ScaleliteMigration(
    IDbContextFactory<ScaleliteDbContext> databases,
    MeetingRegistry registry,
    IOptions<ScaleliteOptions> options,
    IOptions<RecordingOptions> recordingOptions,
    TimeProvider time,
    Tenancy.TenantChanges? tenantChanges = null)
{
    private static readonly IMigrationStep[] Steps = [new ServerStep(), new TenantStep(), new MeetingStep(), new RecordingStep(), new CallbackStep()];

    public async Task<MigrationReport> RunAsync(ScaleliteSource source, MigrationOptions run, CancellationToken ct)
    {
        var targetReady = await CheckTargetAsync(source, run.DryRun, ct);
        var report = new MigrationReport(source.Description, run.DryRun);
        var files = run.CheckFiles ? new RecordingFiles(recordingOptions) : null;
        var context = new MigrationContext(source, databases, registry, files, run, TimeSpan.FromSeconds(options.Value.MeetingTtl), targetReady, report, time.GetUtcNow())
        {
            ReservedSecrets = options.Value.SecretList().Concat(options.Value.AdminSecretList()).ToHashSet(StringComparer.Ordinal),
        };
        if (!targetReady)
        {
            report.Add(new StepReport("target") { Counts = false }).Notes.Add("the database is not set up yet: everything would be added (a run sets it up first)");
        }

        foreach (var step in Steps)
        {
            await step.RunAsync(context, ct);
        }

        if (context.TenantsChanged && tenantChanges is not null)
        {
            await tenantChanges.PublishAsync(ct);
        }

        if (context.WaitingForTenants.Count > 0)
        {
            report[TenantStep.Name].Notes.Add("waiting for their tenants: " + string.Join(", ", context.WaitingForTenants.Select(w => $"{w.Value} {w.Key}")));
        }

        return report;
    }

    /// <summary>
    /// Refuses a target that is Scalelite's own database: its tables would collide with ours. Call it before our
    /// schema is applied to the target, so that nothing is ever written there.
    /// </summary>
    public async Task EnsureSeparateDatabaseAsync(ScaleliteSource source, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var target = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString());
        var (host, port, name) = source.DatabaseIdentity;
        if (string.Equals(target.Host, host, StringComparison.OrdinalIgnoreCase) && target.Port == port && target.Database == name)
        {
            throw new MigrationRefusedException($"The target database is Scalelite's own ({host}:{port}/{name}): give our services a database of their own.");
        }

        var scaleliteTables = await db.Database
            .SqlQueryRaw<string>("SELECT table_name AS \"Value\" FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('callback_data', 'metadata')")
            .ToListAsync(ct);
        if (scaleliteTables.Count > 0)
        {
            throw new MigrationRefusedException($"The target database has Scalelite's tables ({string.Join(", ", scaleliteTables)}): give our services a database of their own.");
        }
    }

    /// <summary>
    /// Whether our schema is there. A run needs it up to date (the caller applies it, as the services do at
    /// start-up); a dry run changes nothing, so it plans against an empty target when our schema is missing altogether.
    /// </summary>
    private async Task<bool> CheckTargetAsync(ScaleliteSource source, bool dryRun, CancellationToken ct)
    {
        await EnsureSeparateDatabaseAsync(source, ct);
        await using var db = await databases.CreateDbContextAsync(ct);
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count == 0)
        {
            return true;
        }

        if (!dryRun)
        {
            throw new MigrationRefusedException($"The target database's schema is not up to date ({pending.Count} migration(s) pending).");
        }

        if (pending.Count < db.Database.GetMigrations().Count())
        {
            throw new MigrationRefusedException("The target database's schema is older than this version: start the services once (or run without --dry-run) to update it.");
        }

        return false;
    }
}
