using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence.Tenants;
using Scalelite.Core.Tenancy;

namespace Scalelite.Core.FromScalelite;

/// <summary>
/// Scalelite's tenants and their settings become ours, with Scalelite's ids (so that the <c>tenant-id</c> its
/// meetings and recordings carry still names them), names, secrets and settings. The steps after it map every
/// meeting, recording and callback of a migrated tenant to it.
/// </summary>
/// <remarks>
/// <para>A tenant is compared (<see cref="SyncRule"/>) by its id, name, secrets and settings (each setting by
/// Scalelite's id); the limits are ours alone and not compared, so setting one here is not a change that a later
/// run undoes. Taking Scalelite's side of a tenant replaces its settings with Scalelite's.</para>
/// <para>What our rules refuse is skipped and reported, and the tenant's rows then wait for a later run: a name that
/// is not a host label (names are lower-cased), a name or a secret another tenant here already has, a secret that
/// is a load-balancer or admin secret. Settings that set a parameter a tenant may not set (<c>meetingID</c>,
/// <c>meta_tenant-id</c>, ...) are left out and reported. Scalelite's LRS and Keycloak fields are not carried over:
/// nothing here sends LRS payloads.</para>
/// </remarks>
internal sealed class TenantStep : IMigrationStep
{
    public const string Name = "tenants";

    private sealed record SettingProjection(string Id, string Param, string Value, bool Override);

    private sealed record Projection(string Id, string Name, string Secrets, IReadOnlyList<SettingProjection> Settings);

    public async Task RunAsync(MigrationContext context, CancellationToken ct)
    {
        var report = context.Report.Add(new StepReport(Name));
        var sources = await context.Source.ReadTenantsAsync(ct);
        var scaleliteIds = sources.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var here = new HashSet<string>(StringComparer.Ordinal);
        context.Tenants = new Mapping(scaleliteIds, here);
        if (sources.Count == 0)
        {
            report.Notes.Add("none in Scalelite");
            return;
        }

        await using var db = await context.Databases.CreateDbContextAsync(ct);
        var ours = context.TargetReady ? await db.Tenants.Include(t => t.Settings).ToDictionaryAsync(t => t.Id, StringComparer.Ordinal, ct) : [];
        var ledger = await context.LedgerAsync(db, MigrationKinds.Tenant, scaleliteIds, ct);
        here.UnionWith(ours.Keys.Where(scaleliteIds.Contains));
        var written = new List<(TenantRow Tenant, string Fingerprint)>();

        foreach (var source in sources)
        {
            if (Map(source, context, report) is not { } wanted)
            {
                continue;
            }

            var current = ours.GetValueOrDefault(source.Id);
            if (Refusal(wanted, ours.Values, context) is { } refusal)
            {
                if (current is null)
                {
                    report.Skip($"tenant {source.Id} '{source.Name}': {refusal}; its meetings, recordings and callbacks wait");
                    continue;
                }
            }

            var fingerprint = Fingerprint.Of(Project(wanted));
            var decision = SyncRule.Decide(ledger.GetValueOrDefault(source.Id)?.Fingerprint, fingerprint, current is null ? null : Fingerprint.Of(Project(current)));
            switch (decision)
            {
                case SyncDecision.Add:
                    wanted.CreatedAt = wanted.UpdatedAt = context.Now;
                    db.Tenants.Add(wanted);
                    ours[wanted.Id] = wanted;
                    here.Add(wanted.Id);
                    written.Add((wanted, fingerprint));
                    report.Count(decision, $"+ tenant {wanted.Id} '{wanted.Name}': {wanted.SecretList().Count} secret(s), {wanted.Settings.Count} setting(s)");
                    break;
                case SyncDecision.Update when Refusal(wanted, ours.Values.Where(t => t.Id != wanted.Id), context) is { } problem:
                    report.Count(SyncDecision.Conflict, $"! tenant {wanted.Id} '{wanted.Name}': Scalelite's change cannot be taken ({problem}); ours kept");
                    break;
                case SyncDecision.Update:
                    if (!context.DryRun)
                    {
                        current!.Name = wanted.Name;
                        current.Secrets = wanted.Secrets;
                        // The old settings go in a save of their own: Scalelite's may reuse their ids.
                        db.RemoveRange(current.Settings);
                        await db.SaveChangesAsync(ct);
                        current.Settings = [.. wanted.Settings];
                        current.UpdatedAt = context.Now;
                        written.Add((current, fingerprint));
                    }

                    report.Count(decision, $"~ tenant {wanted.Id} '{wanted.Name}': taken from Scalelite");
                    break;
                case SyncDecision.Record:
                    written.Add((current!, fingerprint));
                    report.Count(decision);
                    break;
                case SyncDecision.Conflict:
                    report.Count(decision, $"! tenant {wanted.Id} '{wanted.Name}': changed here and in Scalelite since the last run; ours kept");
                    break;
                default:
                    report.Count(decision);
                    break;
            }
        }

        if (context.DryRun)
        {
            return;
        }

        await db.SaveChangesAsync(ct);
        foreach (var (tenant, fingerprint) in written)
        {
            context.Remember(db, ledger, MigrationKinds.Tenant, tenant.Id, tenant.Id, fingerprint);
        }

        await db.SaveChangesAsync(ct);
        context.TenantsChanged = written.Count > 0;
    }

    /// <summary>Scalelite's tenant as ours; null (reported) when it cannot be one.</summary>
    private static TenantRow? Map(SourceTenant source, MigrationContext context, StepReport report)
    {
        var name = source.Name.Trim().ToLowerInvariant();
        if (source.Id.Length is 0 or > 64 || !TenantStore.IsValidName(name))
        {
            report.Skip($"tenant {source.Id} '{source.Name}': {TenantStore.NameRule}; its meetings, recordings and callbacks wait");
            return null;
        }

        if (source.Secrets.Count == 0)
        {
            report.Skip($"tenant {source.Id} '{source.Name}': it has no secret; its meetings, recordings and callbacks wait");
            return null;
        }

        if (source.Fields.Keys.Any(k => k.StartsWith("lrs_", StringComparison.Ordinal) || k.StartsWith("kc_", StringComparison.Ordinal)))
        {
            report.Details.Add($"tenant {source.Id} '{name}': its LRS/Keycloak settings are not carried over (no LRS payloads are sent here)");
        }

        var settings = new List<TenantSettingRow>();
        foreach (var setting in source.Settings)
        {
            if (!TenantStore.IsValidSetting(setting.Param, setting.Value) || setting.Id.Length is 0 or > 64)
            {
                report.Details.Add($"tenant {source.Id} '{name}': setting {setting.Id} ({setting.Param}) left out: not a parameter a tenant may set");
                continue;
            }

            settings.Add(new TenantSettingRow
            {
                Id = setting.Id,
                TenantId = source.Id,
                Param = setting.Param,
                Value = setting.Value,
                Override = setting.Override,
                Scope = TenantSettingScope.All,
                CreatedAt = context.Now,
            });
        }

        return new TenantRow { Id = source.Id, Name = name, Secrets = string.Join(':', source.Secrets), Settings = settings };
    }

    /// <summary>Why our rules refuse this tenant next to <paramref name="others"/>; null when they do not.</summary>
    private static string? Refusal(TenantRow wanted, IEnumerable<TenantRow> others, MigrationContext context)
    {
        var secrets = wanted.SecretList();
        if (secrets.Any(context.ReservedSecrets.Contains))
        {
            return "a secret of it is a load-balancer or admin secret here";
        }

        foreach (var other in others.Where(o => o.Id != wanted.Id))
        {
            if (other.Name == wanted.Name)
            {
                return $"tenant {other.Id} here is named {other.Name} already";
            }

            if (other.SecretList().Intersect(secrets, StringComparer.Ordinal).Any())
            {
                return $"tenant {other.Name} here has one of its secrets";
            }
        }

        return null;
    }

    private static Projection Project(TenantRow t) =>
        new(t.Id, t.Name, t.Secrets, [.. t.Settings.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => new SettingProjection(s.Id, s.Param, s.Value, s.Override))]);

    /// <summary>A migrated tenant's rows are its own; a tenant that could not be migrated keeps its rows waiting; other rows are the default tenant's.</summary>
    private sealed class Mapping(HashSet<string> scaleliteTenants, HashSet<string> migrated) : ITenantMapping
    {
        public string? Map(string? scaleliteTenantId) =>
            scaleliteTenantId is not { Length: > 0 } id ? Tenant.DefaultId
            : migrated.Contains(id) ? id
            : scaleliteTenants.Contains(id) ? null
            : Tenant.DefaultId;
    }
}
