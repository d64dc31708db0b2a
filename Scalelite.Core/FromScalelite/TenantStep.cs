namespace Scalelite.Core.FromScalelite;

/// <summary>
/// Scalelite's tenants and their settings, read into <see cref="SourceTenant"/> and reported; not migrated yet, as
/// this codebase has no tenants. The rows that belong to them wait (see <see cref="ITenantMapping"/>): a run after
/// tenants exist here takes them.
/// </summary>
/// <remarks>
/// Migrating tenants is this one step: create each tenant with its id, name, secrets and settings (ledger kind
/// <c>tenant</c>, fingerprinted like the others), and set <see cref="MigrationContext.Tenants"/> to map Scalelite's
/// tenant ids to ours. The steps after it already ask that mapping for every meeting, recording and callback.
/// </remarks>
internal sealed class TenantStep : IMigrationStep
{
    public const string Name = "tenants";

    public async Task RunAsync(MigrationContext context, CancellationToken ct)
    {
        var report = context.Report.Add(new StepReport(Name) { Counts = false });
        var tenants = await context.Source.ReadTenantsAsync(ct);
        context.Tenants = new Waiting([.. tenants.Select(t => t.Id)]);
        if (tenants.Count == 0)
        {
            report.Notes.Add("none in Scalelite");
            return;
        }

        report.Notes.Add($"not migrated yet: {tenants.Count} tenants ({tenants.Sum(t => t.Settings.Count)} settings); their meetings, recordings and callbacks wait for them");
        foreach (var tenant in tenants)
        {
            report.Details.Add($"tenant {tenant.Id} '{tenant.Name}': {tenant.Secrets.Count} secret(s), {tenant.Settings.Count} setting(s)");
        }
    }

    /// <summary>Rows of Scalelite's tenants wait; every other row belongs to the default tenant.</summary>
    private sealed class Waiting(HashSet<string> tenantIds) : ITenantMapping
    {
        public string? Map(string? scaleliteTenantId) =>
            scaleliteTenantId is { Length: > 0 } id && tenantIds.Contains(id) ? null : Tenancy.Tenant.DefaultId;
    }
}
