using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Scalelite.Core.Persistence.Tenants;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Apis;

/// <summary>
/// Tenants in the operator API (<c>/api/v1/tenants</c>), beyond Scalelite's admin API: settings, limits and usage,
/// guarded removal, and the assignment of recordings made before tenants existed. The <c>scalelite tenants</c> CLI
/// uses it. Authentication is the operator API's (an admin secret as bearer token).
/// </summary>
/// <remarks>
/// A tenant is named by its id or its name in the path. Tenants may be prepared while multitenancy is off; they take
/// effect once it is on. Limits: null leaves one as it is, 0 removes it.
/// </remarks>
public static class TenantOperatorApi
{
    public static IEndpointRouteBuilder MapTenantOperatorApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(OperatorApi.Prefix + "/tenants").WithTags("tenants");
        api.MapGet("/", ListTenants).WithSummary("All tenants with their limits, usage and settings.");
        api.MapPost("/", AddTenant).WithSummary("Adds a tenant: a name (its host label and path segment), secrets separated by ':', optional limits.");
        api.MapGet("/{tenant}", GetTenant).WithSummary("One tenant, by id or name.");
        api.MapPatch("/{tenant}", UpdateTenant).WithSummary("Changes a tenant's name, secrets (rollover: list old and new, later only the new) or limits (0 removes one).");
        api.MapDelete("/{tenant}", RemoveTenant).WithSummary("Removes a tenant and its settings; refused while it has running meetings or recordings unless force=true.");
        api.MapGet("/{tenant}/settings", ListSettings).WithSummary("A tenant's create and join parameter settings.");
        api.MapPost("/{tenant}/settings", AddSetting).WithSummary("Adds a default (the request wins) or override parameter for create, join or both.");
        api.MapDelete("/{tenant}/settings/{id}", RemoveSetting).WithSummary("Removes one setting.");
        api.MapPost("/{tenant}/assign-recordings", AssignRecordings).WithSummary("Gives every recording of the default tenant to this tenant (Scalelite's recordings:addToTenant).");
        return app;
    }

    public static async Task<IResult> ListTenants(TenantStore store, TenantMeetings meetings, TenantUsageStore usage, CancellationToken ct)
    {
        var tenants = await store.ListAsync(ct);
        var counted = await usage.ReadAsync();
        var views = new List<TenantView>(tenants.Count);
        foreach (var tenant in tenants)
        {
            views.Add(TenantView.From(tenant, await meetings.CountAsync(tenant.Id), counted.GetValueOrDefault(tenant.Id)));
        }

        return TypedResults.Ok(views);
    }

    public static async Task<IResult> GetTenant(string tenant, TenantStore store, TenantMeetings meetings, TenantUsageStore usage, CancellationToken ct) =>
        await store.FindAsync(tenant, ct) is { } found ? TypedResults.Ok(await ViewAsync(found, meetings, usage)) : NotFound(tenant);

    public static async Task<IResult> AddTenant(TenantRequest request, TenantStore store, TenantMeetings meetings, TenantUsageStore usage, CancellationToken ct)
    {
        var result = await store.AddAsync(request.ToChange(), ct);
        return result.Succeeded
            ? TypedResults.Json(await ViewAsync(result.Tenant!, meetings, usage), statusCode: StatusCodes.Status201Created)
            : Answer(result, null);
    }

    public static async Task<IResult> UpdateTenant(string tenant, TenantRequest request, TenantStore store, TenantMeetings meetings, TenantUsageStore usage, CancellationToken ct)
    {
        var result = await store.UpdateAsync(tenant, request.ToChange(), ct);
        return result.Succeeded ? TypedResults.Ok(await ViewAsync(result.Tenant!, meetings, usage)) : Answer(result, tenant);
    }

    public static async Task<IResult> RemoveTenant(string tenant, bool? force, TenantStore store, CancellationToken ct)
    {
        var result = await store.DeleteAsync(tenant, force ?? false, ct);
        return result.Succeeded ? TypedResults.Ok(new MessageResponse($"Tenant {result.Tenant!.Name} (id={result.Tenant.Id}) was removed")) : Answer(result, tenant);
    }

    public static async Task<IResult> ListSettings(string tenant, TenantStore store, CancellationToken ct) =>
        await store.FindAsync(tenant, ct) is { } found ? TypedResults.Ok(found.Settings.OrderBy(s => s.CreatedAt).Select(SettingView.From).ToList()) : NotFound(tenant);

    public static async Task<IResult> AddSetting(string tenant, SettingRequest request, TenantStore store, CancellationToken ct)
    {
        var result = await store.AddSettingAsync(tenant, request.Param, request.Value, request.Override ?? false, request.Scope, ct);
        return result.Succeeded
            ? TypedResults.Json(SettingView.From(result.Tenant!.Settings.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal).Last()), statusCode: StatusCodes.Status201Created)
            : Answer(result, tenant);
    }

    public static async Task<IResult> RemoveSetting(string tenant, string id, TenantStore store, CancellationToken ct)
    {
        var result = await store.RemoveSettingAsync(tenant, id, ct);
        return result.Succeeded ? TypedResults.Ok(new MessageResponse($"Setting {id} was removed")) : Answer(result, $"{tenant} (setting {id})");
    }

    public static async Task<IResult> AssignRecordings(string tenant, [FromBody] AssignRequest? request, TenantStore store, CancellationToken ct)
    {
        var dryRun = request?.DryRun ?? false;
        var (result, count) = await store.AssignRecordingsAsync(tenant, dryRun, ct);
        return result.Succeeded ? TypedResults.Ok(new AssignResponse(result.Tenant!.Id, result.Tenant.Name, count, dryRun)) : Answer(result, tenant);
    }

    private static async Task<TenantView> ViewAsync(TenantRow tenant, TenantMeetings meetings, TenantUsageStore usage) =>
        TenantView.From(tenant, await meetings.CountAsync(tenant.Id), (await usage.ReadAsync()).GetValueOrDefault(tenant.Id));

    private static JsonHttpResult<MessageResponse> Answer(TenantResult result, string? tenant) => result.Status switch
    {
        TenantStatus.NotFound => NotFound(tenant),
        TenantStatus.Invalid => TypedResults.Json(new MessageResponse(result.Error!), statusCode: StatusCodes.Status400BadRequest),
        _ => TypedResults.Json(new MessageResponse(result.Error!), statusCode: StatusCodes.Status409Conflict),
    };

    private static JsonHttpResult<MessageResponse> NotFound(string? tenant) =>
        TypedResults.Json(new MessageResponse($"Couldn't find tenant {tenant}"), statusCode: StatusCodes.Status404NotFound);
}

/// <param name="Secrets">Every accepted secret, separated by ':'.</param>
public sealed record TenantRequest(string? Name, string? Secrets, int? MaxMeetings, int? MaxParticipants, int? MaxMeetingParticipants)
{
    public TenantChange ToChange() => new(Name, Secrets, MaxMeetings, MaxParticipants, MaxMeetingParticipants);
}

/// <param name="Scope">all (create and join, as in Scalelite; the default), create or join.</param>
public sealed record SettingRequest(string? Param, string? Value, bool? Override, string? Scope);

public sealed record AssignRequest(bool? DryRun);

public sealed record AssignResponse(string TenantId, string TenantName, int Recordings, bool DryRun);

public sealed record TenantLimitsView(int? MaxMeetings, int? MaxParticipants, int? MaxMeetingParticipants);

/// <param name="Meetings">Running now, as Redis knows them (creates count at once).</param>
/// <param name="Participants">In all its meetings, as the poller last counted them.</param>
public sealed record TenantUsageView(int Meetings, int Participants);

public sealed record SettingView(string Id, string Param, string Value, bool Override, string Scope)
{
    public static SettingView From(TenantSettingRow s) => new(s.Id, s.Param, s.Value, s.Override, s.Scope);
}

public sealed record TenantView(string Id, string Name, IReadOnlyList<string> Secrets, TenantLimitsView Limits, TenantUsageView Usage, IReadOnlyList<SettingView> Settings)
{
    public static TenantView From(TenantRow t, int meetings, TenantUsage usage) => new(
        t.Id, t.Name, t.SecretList(),
        new TenantLimitsView(t.MaxMeetings, t.MaxParticipants, t.MaxMeetingParticipants),
        new TenantUsageView(meetings, usage.Participants),
        [.. t.Settings.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal).Select(SettingView.From)]);
}
