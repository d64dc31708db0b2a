using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Tenants;
using Scalelite.Core.Recordings;

namespace Scalelite.Core.Tenancy;

public enum TenantStatus { Done, NotFound, Invalid, Refused }

/// <summary>The outcome of a change to a tenant: done (with the tenant as it is now), or why not.</summary>
public sealed record TenantResult(TenantStatus Status, TenantRow? Tenant = null, string? Error = null)
{
    public bool Succeeded => Status == TenantStatus.Done;

    public static readonly TenantResult NotFound = new(TenantStatus.NotFound);

    public static TenantResult Invalid(string error) => new(TenantStatus.Invalid, Error: error);

    public static TenantResult Refused(string error) => new(TenantStatus.Refused, Error: error);
}

/// <summary>What to change of a tenant; null leaves a field as it is, a limit of 0 removes it.</summary>
public sealed record TenantChange(string? Name = null, string? Secrets = null, int? MaxMeetings = null, int? MaxParticipants = null, int? MaxMeetingParticipants = null);

/// <summary>
/// Every change to tenants (the admin API, the operator API, the CLI through it): validated, written to PostgreSQL,
/// then announced so that every API replica has reloaded before the change is answered (<see cref="TenantChanges"/>).
/// </summary>
/// <remarks>
/// Rules beyond Scalelite's: names are unique and lower case, because they are host labels and path segments; a
/// secret is one tenant's alone and never a load-balancer or admin secret, so that no tenant's secret works on another
/// tenant's host or opens the admin APIs; a tenant that still has running meetings or recordings is removed only when
/// forced.
/// </remarks>
public sealed partial class TenantStore(
    IDbContextFactory<ScaleliteDbContext> databases,
    TenantChanges changes,
    TenantMeetings meetings,
    IOptions<ScaleliteOptions> options,
    TimeProvider time)
{
    public const string NameRule = "a tenant name is 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit (it is a host label and a path segment)";

    /// <summary>Parameters a tenant setting may not set: they identify the call or the tenant itself.</summary>
    private static readonly HashSet<string> ReservedParams = new(StringComparer.OrdinalIgnoreCase) { "meetingID", "checksum", "meta_tenant-id", "meta_tenant-name" };

    [GeneratedRegex("^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,256}$")]
    private static partial Regex ParamPattern();

    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    public async Task<List<TenantRow>> ListAsync(CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.Tenants.AsNoTracking().Include(t => t.Settings).OrderBy(t => t.Name).ToListAsync(ct);
    }

    /// <summary>A tenant by id, or by name when no id matches.</summary>
    public async Task<TenantRow?> FindAsync(string idOrName, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await FindAsync(db, idOrName, ct);
    }

    public async Task<TenantResult> AddAsync(TenantChange change, CancellationToken ct, string? id = null)
    {
        if (string.IsNullOrWhiteSpace(change.Name) || string.IsNullOrWhiteSpace(change.Secrets))
        {
            return TenantResult.Invalid("both name and secrets are required to create a tenant");
        }

        await using var db = await databases.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var tenant = new TenantRow { Name = change.Name.Trim().ToLowerInvariant(), Secrets = string.Empty, CreatedAt = now, UpdatedAt = now };
        if (id is not null)
        {
            tenant.Id = id;
        }

        if (await ApplyAsync(db, tenant, change with { Name = tenant.Name }, ct) is { } problem)
        {
            return problem;
        }

        db.Tenants.Add(tenant);
        return await SaveAsync(db, tenant, ct);
    }

    public async Task<TenantResult> UpdateAsync(string idOrName, TenantChange change, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await FindAsync(db, idOrName, ct) is not { } tenant)
        {
            return TenantResult.NotFound;
        }

        if (await ApplyAsync(db, tenant, change, ct) is { } problem)
        {
            return problem;
        }

        tenant.UpdatedAt = time.GetUtcNow();
        return await SaveAsync(db, tenant, ct);
    }

    /// <summary>Removes a tenant and its settings; refused while it has running meetings or recordings, unless <paramref name="force"/>.</summary>
    /// <remarks>Forced, its meetings run on (nobody can reach them through the API any more) and its recordings stay in the index, unlisted.</remarks>
    public async Task<TenantResult> DeleteAsync(string idOrName, bool force, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await FindAsync(db, idOrName, ct) is not { } tenant)
        {
            return TenantResult.NotFound;
        }

        if (!force)
        {
            var (running, recordings) = await HoldingsAsync(db, tenant.Id, ct);
            if (running > 0 || recordings > 0)
            {
                return TenantResult.Refused(
                    $"Tenant {tenant.Name} still has {running} running meeting(s) and {recordings} recording(s); end and delete them first, or force the removal");
            }
        }

        db.Tenants.Remove(tenant);
        await db.SaveChangesAsync(ct);
        await changes.PublishAsync(ct);
        return new TenantResult(TenantStatus.Done, tenant);
    }

    /// <summary>A tenant's running meetings (as Redis knows them) and recordings (not deleted).</summary>
    public async Task<(int Meetings, int Recordings)> HoldingsAsync(string tenantId, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await HoldingsAsync(db, tenantId, ct);
    }

    /// <summary>Why a setting cannot be a tenant's; null when it can.</summary>
    public static string? SettingProblem(string? param, string? value) =>
        string.IsNullOrEmpty(param) || !ParamPattern().IsMatch(param) ? "A setting's param is a BBB parameter name (letters, digits, '_', '.', '-')"
        : ReservedParams.Contains(param) ? $"{param} cannot be a tenant setting"
        : value is null || value.Length > 4096 ? "A setting needs a value of at most 4096 characters"
        : null;

    public static bool IsValidSetting(string? param, string? value) => SettingProblem(param, value) is null;

    public async Task<TenantResult> AddSettingAsync(string idOrName, string? param, string? value, bool isOverride, string? scope, CancellationToken ct)
    {
        scope ??= TenantSettingScope.All;
        if (SettingProblem(param, value) is { } problem)
        {
            return TenantResult.Invalid(problem);
        }

        if (!TenantSettingScope.IsValid(scope))
        {
            return TenantResult.Invalid("A setting's scope is all, create or join");
        }

        await using var db = await databases.CreateDbContextAsync(ct);
        if (await FindAsync(db, idOrName, ct) is not { } tenant)
        {
            return TenantResult.NotFound;
        }

        var setting = new TenantSettingRow { TenantId = tenant.Id, Param = param!, Value = value!, Override = isOverride, Scope = scope, CreatedAt = time.GetUtcNow() };
        tenant.Settings.Add(setting);
        tenant.UpdatedAt = setting.CreatedAt;
        return await SaveAsync(db, tenant, ct);
    }

    public async Task<TenantResult> RemoveSettingAsync(string idOrName, string settingId, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await FindAsync(db, idOrName, ct) is not { } tenant || tenant.Settings.Find(s => s.Id == settingId) is not { } setting)
        {
            return TenantResult.NotFound;
        }

        tenant.Settings.Remove(setting);
        tenant.UpdatedAt = time.GetUtcNow();
        return await SaveAsync(db, tenant, ct);
    }

    /// <summary>
    /// Gives every recording of the default tenant (recorded before tenants existed) to this tenant, with the
    /// <c>tenant-id</c> and <c>tenant-name</c> metadata a tenant's recording carries (Scalelite's <c>recordings:addToTenant</c>).
    /// </summary>
    /// <returns>How many recordings were (or, with <paramref name="dryRun"/>, would be) assigned.</returns>
    public async Task<(TenantResult Result, int Count)> AssignRecordingsAsync(string idOrName, bool dryRun, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await FindAsync(db, idOrName, ct) is not { } tenant)
        {
            return (TenantResult.NotFound, 0);
        }

        var unassigned = db.Recordings.Where(r => r.TenantId == Tenant.DefaultId);
        if (dryRun)
        {
            return (new TenantResult(TenantStatus.Done, tenant), await unassigned.CountAsync(ct));
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var (key, value) in new[] { ("tenant-id", tenant.Id), ("tenant-name", tenant.Name) })
        {
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO recording_metadata (recording_id, key, value)
                SELECT r.id, {key}, {value} FROM recordings r WHERE r.tenant_id = ''
                ON CONFLICT (recording_id, key) DO UPDATE SET value = EXCLUDED.value
                """, ct);
        }

        var count = await unassigned.ExecuteUpdateAsync(u => u.SetProperty(r => r.TenantId, tenant.Id).SetProperty(r => r.UpdatedAt, time.GetUtcNow()), ct);
        await tx.CommitAsync(ct);
        return (new TenantResult(TenantStatus.Done, tenant), count);
    }

    private static async Task<TenantRow?> FindAsync(ScaleliteDbContext db, string idOrName, CancellationToken ct)
    {
        var name = idOrName.Trim().ToLowerInvariant();
        return await db.Tenants.Include(t => t.Settings).FirstOrDefaultAsync(t => t.Id == idOrName, ct)
            ?? await db.Tenants.Include(t => t.Settings).FirstOrDefaultAsync(t => t.Name == name, ct);
    }

    private async Task<(int Meetings, int Recordings)> HoldingsAsync(ScaleliteDbContext db, string tenantId, CancellationToken ct) =>
        (await meetings.CountAsync(tenantId),
         await db.Recordings.CountAsync(r => r.TenantId == tenantId && r.State != RecordingState.Deleted, ct));

    /// <summary>Applies a change to <paramref name="tenant"/> once every rule holds; else the reason.</summary>
    private async Task<TenantResult?> ApplyAsync(ScaleliteDbContext db, TenantRow tenant, TenantChange change, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(change.Name))
        {
            var name = change.Name.Trim().ToLowerInvariant();
            if (!IsValidName(name))
            {
                return TenantResult.Invalid(char.ToUpperInvariant(NameRule[0]) + NameRule[1..]);
            }

            if (await db.Tenants.AnyAsync(t => t.Name == name && t.Id != tenant.Id, ct))
            {
                return TenantResult.Invalid($"A tenant named {name} already exists");
            }

            tenant.Name = name;
        }

        if (!string.IsNullOrWhiteSpace(change.Secrets))
        {
            var secrets = TenantRow.SplitSecrets(change.Secrets);
            if (secrets.Count == 0)
            {
                return TenantResult.Invalid("At least one secret is required");
            }

            if (await SecretConflictAsync(db, tenant.Id, secrets, ct) is { } conflict)
            {
                return TenantResult.Invalid(conflict);
            }

            tenant.Secrets = string.Join(':', secrets);
        }

        foreach (var limit in new[] { change.MaxMeetings, change.MaxParticipants, change.MaxMeetingParticipants })
        {
            if (limit is < 0)
            {
                return TenantResult.Invalid("A limit is a number of at least 0 (0 removes it)");
            }
        }

        tenant.MaxMeetings = Limit(change.MaxMeetings, tenant.MaxMeetings);
        tenant.MaxParticipants = Limit(change.MaxParticipants, tenant.MaxParticipants);
        tenant.MaxMeetingParticipants = Limit(change.MaxMeetingParticipants, tenant.MaxMeetingParticipants);
        return null;
    }

    private static int? Limit(int? change, int? current) => change switch { null => current, 0 => null, _ => change };

    /// <summary>Why these secrets cannot be this tenant's: the load balancer's, the admin API's, or another tenant's.</summary>
    internal async Task<string?> SecretConflictAsync(ScaleliteDbContext db, string tenantId, IReadOnlyList<string> secrets, CancellationToken ct)
    {
        var o = options.Value;
        if (secrets.Any(s => o.SecretList().Contains(s) || o.AdminSecretList().Contains(s)))
        {
            return "A tenant's secret cannot be a load-balancer or admin secret";
        }

        var others = await db.Tenants.Where(t => t.Id != tenantId).Select(t => t.Secrets).ToListAsync(ct);
        return others.SelectMany(TenantRow.SplitSecrets).Intersect(secrets, StringComparer.Ordinal).Any()
            ? "A tenant's secret cannot be another tenant's"
            : null;
    }

    private async Task<TenantResult> SaveAsync(ScaleliteDbContext db, TenantRow tenant, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two changes raced for one name (the unique index caught it) or for one tenant.
            return TenantResult.Invalid($"The tenant {tenant.Name} was changed at the same time by another request; try again");
        }

        await changes.PublishAsync(ct);
        return new TenantResult(TenantStatus.Done, tenant);
    }
}
