using System.Text.Json;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence.Tenants;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Apis;

/// <summary>
/// Scalelite's tenant calls of the admin API (<c>/scalelite/api/</c>): <c>getTenants</c>, <c>getTenantInfo</c>,
/// <c>addTenant</c>, <c>updateTenant</c>, <c>deleteTenant</c>, with Scalelite's JSON bodies, status codes and texts.
/// </summary>
/// <remarks>
/// <para>Checks in Scalelite's order: the admin API's own (<see cref="AdminApi.VerifyRequest"/>: the Content-Type of
/// a POST with a body, then the checksum with an admin secret, answered as JSON like every refusal of this API), then
/// multitenancy (412 <c>{"message":"Multitenancy is disabled"}</c>). Parameters come from the JSON body or the query
/// string. A missing <c>tenant</c> object is Rails' <c>param is missing</c> internalError, which Scalelite answers
/// as XML; here it is the admin API's JSON refusal with that key and text, status 400.</para>
/// <para>Where this differs from Scalelite, on purpose: a name must be a valid host label and is unique (Scalelite
/// accepts a duplicate and re-points the name to the new tenant, orphaning the old one), a secret is one tenant's
/// alone, and deleteTenant refuses a tenant with running meetings or recordings (422 with the reason) unless the body
/// says <c>"force": true</c>. Such refusals are 422 <c>{"error":...}</c>, Scalelite's answer to a failed save.</para>
/// </remarks>
public static class TenantAdminApi
{
    private static readonly JsonSerializerOptions Json = new();

    public static IEndpointRouteBuilder MapTenantAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(AdminApi.Prefix)
            .AddEndpointFilter(AdminApi.VerifyRequest)
            .AddEndpointFilter(RequireMultitenancy);
        api.MapGet("/getTenants", GetTenants);
        api.MapGet("/getTenantInfo", GetTenantInfo);
        api.MapPost("/addTenant", AddTenant);
        api.MapPost("/updateTenant", UpdateTenant);
        api.MapPost("/deleteTenant", DeleteTenant);
        return app;
    }

    public static async Task<IResult> GetTenants(TenantStore store, CancellationToken ct)
    {
        var tenants = await store.ListAsync(ct);
        return tenants.Count == 0
            ? JsonAnswer(new Dictionary<string, string> { ["message"] = "No tenants exist" })
            : JsonAnswer(tenants.Select(t => new Dictionary<string, string> { ["id"] = t.Id, ["name"] = t.Name, ["secrets"] = t.Secrets }));
    }

    public static async Task<IResult> GetTenantInfo(HttpContext context, TenantStore store, CancellationToken ct)
    {
        var id = Text(await BodyAsync(context), "id") ?? context.Request.Query["id"].ToString();
        return await store.FindAsync(id, ct) is { } tenant && tenant.Id == id ? JsonAnswer(TenantObject(tenant)) : NotFound(id);
    }

    public static async Task<IResult> AddTenant(HttpContext context, TenantStore store, CancellationToken ct)
    {
        if (Wrapper(await BodyAsync(context)) is not { } fields)
        {
            return MissingWrapper();
        }

        var (name, secrets) = (Text(fields, "name"), Text(fields, "secrets"));
        if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(secrets))
        {
            return JsonAnswer(new Dictionary<string, string> { ["message"] = "Error: both name and secrets are required to create a Tenant" }, StatusCodes.Status400BadRequest);
        }

        var result = await store.AddAsync(new TenantChange(name, secrets), ct);
        return result.Succeeded
            ? JsonAnswer(new Dictionary<string, object> { ["tenant"] = TenantObject(result.Tenant!) }, StatusCodes.Status201Created)
            : Unprocessable(result.Error!);
    }

    public static async Task<IResult> UpdateTenant(HttpContext context, TenantStore store, CancellationToken ct)
    {
        var body = await BodyAsync(context);
        var id = Text(body, "id") ?? context.Request.Query["id"].ToString();
        if (await store.FindAsync(id, ct) is not { } tenant || tenant.Id != id)
        {
            return NotFound(id);
        }

        if (Wrapper(body) is not { } fields)
        {
            return MissingWrapper();
        }

        // Blank fields are left as they are, as Scalelite does.
        var result = await store.UpdateAsync(id, new TenantChange(Text(fields, "name"), Text(fields, "secrets")), ct);
        return result.Status switch
        {
            TenantStatus.Done => JsonAnswer(new Dictionary<string, object> { ["tenant"] = TenantObject(result.Tenant!) }),
            TenantStatus.NotFound => NotFound(id),
            _ => Unprocessable(result.Error!),
        };
    }

    public static async Task<IResult> DeleteTenant(HttpContext context, TenantStore store, CancellationToken ct)
    {
        var body = await BodyAsync(context);
        var id = Text(body, "id") ?? context.Request.Query["id"].ToString();
        if (await store.FindAsync(id, ct) is not { } tenant || tenant.Id != id)
        {
            return NotFound(id);
        }

        var force = body is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("force", out var f) && f.ValueKind == JsonValueKind.True;
        var result = await store.DeleteAsync(id, force, ct);
        return result.Status switch
        {
            TenantStatus.Done => JsonAnswer(new Dictionary<string, string> { ["success"] = $"Tenant id={id} was destroyed" }),
            TenantStatus.NotFound => NotFound(id),
            _ => Unprocessable(result.Error!),
        };
    }

    /// <summary>The tenant as Scalelite's <c>getTenantInfo</c> serialises its model.</summary>
    private static Dictionary<string, object> TenantObject(TenantRow tenant) => new()
    {
        ["id"] = tenant.Id,
        ["name"] = tenant.Name,
        ["secrets"] = tenant.Secrets,
        ["new_record"] = false,
        ["destroyed"] = false,
    };

    private static async ValueTask<object?> RequireMultitenancy(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.RequestServices.GetRequiredService<IOptions<ScaleliteOptions>>().Value.MultitenancyEnabled
            ? await next(context)
            : JsonAnswer(new Dictionary<string, string> { ["message"] = "Multitenancy is disabled" }, StatusCodes.Status412PreconditionFailed);

    /// <summary>The JSON body, read once and kept for the next reader; null when there is none or it is not JSON.</summary>
    private static async Task<JsonElement?> BodyAsync(HttpContext context)
    {
        if (context.Items.TryGetValue(typeof(TenantAdminApi), out var cached))
        {
            return (JsonElement?)cached;
        }

        JsonElement? body = null;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                body = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // An empty or malformed body: as if no parameter was given.
            }
        }

        context.Items[typeof(TenantAdminApi)] = body;
        return body;
    }

    private static JsonElement? Wrapper(JsonElement? body) =>
        body is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("tenant", out var tenant) && tenant.ValueKind == JsonValueKind.Object
            && tenant.EnumerateObject().Any()
            ? tenant
            : null;

    /// <summary>A string (or number) field; null when absent, null or of another kind.</summary>
    private static string? Text(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value)
            ? value.ValueKind switch { JsonValueKind.String => value.GetString(), JsonValueKind.Number => value.GetRawText(), _ => null }
            : null;

    private static IResult MissingWrapper() =>
        AdminApi.Failed(BbbError.Internal("param is missing or the value is empty: tenant"), StatusCodes.Status400BadRequest);

    private static IResult NotFound(string? id) =>
        JsonAnswer(new Dictionary<string, string> { ["error"] = $"Couldn't find Tenant with id={id}" }, StatusCodes.Status404NotFound);

    private static IResult Unprocessable(string error) =>
        JsonAnswer(new Dictionary<string, string> { ["error"] = error }, StatusCodes.Status422UnprocessableEntity);

    private static IResult JsonAnswer(object value, int status = StatusCodes.Status200OK) => Results.Json(value, Json, statusCode: status);
}
