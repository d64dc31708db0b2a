using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Recordings;
using Scalelite.Core.State;

namespace Scalelite.Core.FromScalelite;

/// <summary>One step of a migration from Scalelite (servers, tenants, meetings, recordings, callbacks).</summary>
internal interface IMigrationStep
{
    Task RunAsync(MigrationContext context, CancellationToken ct);
}

/// <summary>Which of our tenants a Scalelite row belongs to.</summary>
/// <remarks>
/// Scalelite marks a tenant's rows with the tenant's id (<c>meeting:&lt;id&gt;.tenant_id</c>, the <c>tenant-id</c>
/// metadatum of a recording), and tenants keep Scalelite's ids here, so a migrated tenant's rows are its own. A row
/// of a tenant that could not be migrated waits (it is neither migrated nor lost: a later run takes it), so that
/// nothing of a tenant lands in the default tenant; any other row belongs to the default tenant, as it did in
/// Scalelite without multitenancy.
/// </remarks>
public interface ITenantMapping
{
    /// <summary>Our tenant id for Scalelite's <paramref name="scaleliteTenantId"/>; null when the row must wait for its tenant.</summary>
    string? Map(string? scaleliteTenantId);
}

/// <summary>What the steps of one run share: the source, the target, the options and the report.</summary>
internal sealed class MigrationContext(
    ScaleliteSource source,
    IDbContextFactory<ScaleliteDbContext> databases,
    MeetingRegistry registry,
    RecordingFiles? files,
    MigrationOptions options,
    TimeSpan meetingTtl,
    bool targetReady,
    MigrationReport report,
    DateTimeOffset now)
{
    public ScaleliteSource Source { get; } = source;

    public IDbContextFactory<ScaleliteDbContext> Databases { get; } = databases;

    public MeetingRegistry Registry { get; } = registry;

    /// <summary>The recording volume to check files on; null when the check is off.</summary>
    public RecordingFiles? Files { get; } = files;

    public MigrationOptions Options { get; } = options;

    public bool DryRun => Options.DryRun;

    /// <summary>How long a migrated meeting's ownership is kept without the poller seeing it (<c>DEFAULT_MEETING_TTL</c>).</summary>
    public TimeSpan MeetingTtl { get; } = meetingTtl;

    /// <summary>
    /// False only in a dry run against a database our services have not set up yet: every row is then new, and
    /// the steps do not read tables that do not exist.
    /// </summary>
    public bool TargetReady { get; } = targetReady;

    public MigrationReport Report { get; } = report;

    public DateTimeOffset Now { get; } = now;

    /// <summary>Set by the tenant step; until then every row belongs to the default tenant.</summary>
    public ITenantMapping Tenants { get; set; } = new DefaultTenantOnly();

    /// <summary>Secrets no tenant may have here: the load balancer's and the admin APIs'.</summary>
    public IReadOnlySet<string> ReservedSecrets { get; init; } = new HashSet<string>();

    /// <summary>The tenant step wrote tenants: the API replicas are told to reload them.</summary>
    public bool TenantsChanged { get; set; }

    /// <summary>Our server ids once the server step ran (in a dry run, including the ones it would add).</summary>
    public HashSet<string> ServerIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Scalelite's tenant id of each meetingID known to belong to a tenant (from meetings and recordings).</summary>
    public Dictionary<string, string> MeetingTenants { get; } = new(StringComparer.Ordinal);

    /// <summary>Rows waiting for their tenant, by kind, for the tenant step's note.</summary>
    public Dictionary<string, int> WaitingForTenants { get; } = new(StringComparer.Ordinal);

    public void Wait(string kind) => WaitingForTenants[kind] = WaitingForTenants.GetValueOrDefault(kind) + 1;

    /// <summary>The ledger entries of <paramref name="kind"/> for these source keys.</summary>
    public async Task<Dictionary<string, MigratedRow>> LedgerAsync(ScaleliteDbContext db, string kind, IReadOnlyCollection<string> keys, CancellationToken ct)
    {
        if (!TargetReady || keys.Count == 0)
        {
            return new Dictionary<string, MigratedRow>(StringComparer.Ordinal);
        }

        var list = keys.ToArray();
        return await db.Set<MigratedRow>().Where(m => m.Kind == kind && list.Contains(m.SourceKey)).ToDictionaryAsync(m => m.SourceKey, StringComparer.Ordinal, ct);
    }

    /// <summary>Writes the ledger entry of a row that now matches Scalelite's (added, updated or found equal).</summary>
    public void Remember(ScaleliteDbContext db, Dictionary<string, MigratedRow> ledger, string kind, string sourceKey, string targetKey, string fingerprint)
    {
        if (ledger.TryGetValue(sourceKey, out var row))
        {
            row.TargetKey = targetKey;
            row.Fingerprint = fingerprint;
            row.MigratedAt = Now;
        }
        else
        {
            db.Add(new MigratedRow { Kind = kind, SourceKey = sourceKey, TargetKey = targetKey, Fingerprint = fingerprint, MigratedAt = Now });
        }
    }

    private sealed class DefaultTenantOnly : ITenantMapping
    {
        public string? Map(string? scaleliteTenantId) => Tenancy.Tenant.DefaultId;
    }
}

/// <summary>How a run behaves.</summary>
/// <param name="DryRun">Read both sides and report, write nothing.</param>
/// <param name="CheckFiles">Look for each recording's files on the recording volume.</param>
/// <param name="BatchSize">Recordings read, compared and written per transaction.</param>
public sealed record MigrationOptions(bool DryRun, bool CheckFiles = true, int BatchSize = 500);

/// <summary>A short, stable digest of what a row carries over, compared across runs (see <see cref="SyncRule"/>).</summary>
internal static class Fingerprint
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static string Of<T>(T projection) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(projection, Json)));
}
