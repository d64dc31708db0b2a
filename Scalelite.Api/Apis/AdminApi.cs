using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Lifecycle;

namespace Scalelite.Api.Apis;

/// <summary>
/// Scalelite's admin API (<c>/scalelite/api/</c>), for existing operator tooling. Checksum-protected with the
/// admin secret (by default the load-balancer secret) like the BBB API (the call name plus the query string), with JSON bodies.
/// </summary>
/// <remarks>
/// Every answer is JSON. The calls answer as Scalelite's do. What is refused before a call runs, Scalelite answers
/// as BBB XML on HTTP 200; here it is JSON with a status that says so, <c>{"error": message, "messageKey": key}</c>
/// with BBB's key and text: a Content-Type that is not JSON on a POST with a body (415 <c>unsupportedContentType</c>,
/// checked first, as Scalelite does), a bad checksum (401 <c>checksumError</c>), an unknown call (404) or a known
/// one with the wrong method (405 <c>unsupportedRequest</c>), and an unexpected failure (500 <c>internalError</c>).
/// A client written for Scalelite sees no difference on success, and a failure stays a failure to it whether it
/// reads the status or tries to parse the body. The tenant calls (<see cref="TenantAdminApi"/>) pass the same checks.
/// </remarks>
public static class AdminApi
{
    public const string Prefix = "/scalelite/api";

    private static readonly FrozenSet<string> TenantCalls = FrozenSet.Create(StringComparer.Ordinal, "getTenants", "getTenantInfo", "addTenant", "updateTenant", "deleteTenant");

    private static readonly FrozenSet<string> Calls = FrozenSet.Create(
        StringComparer.Ordinal, ["getServers", "getServerInfo", "addServer", "updateServer", "deleteServer", "panicServer", .. TenantCalls]);

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).AddEndpointFilter(VerifyRequest);
        api.MapGet("/getServers", GetServers);
        api.MapGet("/getServerInfo", GetServerInfo);
        api.MapPost("/addServer", AddServer);
        api.MapPost("/updateServer", UpdateServer);
        api.MapPost("/deleteServer", DeleteServer);
        api.MapPost("/panicServer", PanicServer);
        app.Map(Prefix + "/{**rest}", (string? rest) =>
            Failed(BbbError.UnsupportedRequest, rest is not null && Calls.Contains(rest) ? StatusCodes.Status405MethodNotAllowed : StatusCodes.Status404NotFound));
        return app;
    }

    /// <summary>A request refused before (or failing outside) a call, as this API answers it (see the remarks).</summary>
    public static IResult Failed(BbbError error, int status) =>
        Results.Json(new { error = error.Message, messageKey = error.MessageKey }, statusCode: status);

    public static async Task<IResult> GetServers(ServerAdministration admin, CancellationToken ct)
    {
        var servers = await admin.ListAsync(ct);
        return servers.Count == 0
            ? Results.Json(new { error = "No servers are configured" }, statusCode: StatusCodes.Status404NotFound)
            : Results.Json(servers.Select(ServerJson.From));
    }

    public static async Task<IResult> GetServerInfo(string? id, ServerAdministration admin, CancellationToken ct) =>
        await admin.FindAsync(id ?? string.Empty, ct) is { } server ? Results.Json(ServerJson.From(server)) : NotFound(id);

    public static async Task<IResult> AddServer(HttpContext context, ServerAdministration admin, IServerDirectory directory, CancellationToken ct)
    {
        var body = await ReadAsync<AddServerBody>(context);
        if (body?.Server is not { } s)
        {
            return BadRequest("Server needs a URL and a secret");
        }

        var result = await admin.AddAsync(s.Url ?? string.Empty, s.Secret ?? string.Empty, s.LoadMultiplier, s.Tag, ct);
        return await AnswerAsync(id: null, result, directory, server => Results.Json(ServerJson.From(server), statusCode: StatusCodes.Status201Created), ct);
    }

    public static async Task<IResult> UpdateServer(HttpContext context, ServerAdministration admin, IServerDirectory directory, CancellationToken ct)
    {
        var body = await ReadAsync<UpdateServerBody>(context);
        var id = body?.Id ?? body?.Server?.Id;
        if (body?.Server is not { } s || string.IsNullOrEmpty(id))
        {
            return BadRequest("Expected {\"id\": ..., \"server\": {...}}");
        }

        var result = await admin.UpdateAsync(id, new ServerAdministration.Update(s.State, s.LoadMultiplier, s.Secret, s.Tag, s.Tag is not null), ct);
        return await AnswerAsync(id, result, directory, server => Results.Json(ServerJson.From(server)), ct);
    }

    public static async Task<IResult> DeleteServer(HttpContext context, ServerAdministration admin, IServerDirectory directory, CancellationToken ct)
    {
        var body = await ReadAsync<IdBody>(context);
        var id = body?.Id ?? body?.Server?.Id;
        if (string.IsNullOrEmpty(id))
        {
            return BadRequest("Expected {\"id\": ...}");
        }

        var result = await admin.DeleteAsync(id, ct);
        return await AnswerAsync(id, result, directory, _ => Results.Json(new { success = $"Server id={id} was destroyed" }), ct);
    }

    public static async Task<IResult> PanicServer(HttpContext context, ServerAdministration admin, IServerDirectory directory, CancellationToken ct)
    {
        var body = await ReadAsync<PanicBody>(context);
        var id = body?.Id ?? body?.Server?.Id;
        if (string.IsNullOrEmpty(id))
        {
            return BadRequest("Expected {\"id\": ...}");
        }

        var keepState = body?.KeepState ?? body?.Server?.KeepState ?? false;
        var (result, _) = await admin.PanicAsync(id, keepState, ct);
        return await AnswerAsync(id, result, directory, _ => Results.Json(new { success = $"Server id={id} has been disabled and the meetings have been destroyed" }), ct);
    }

    /// <summary>
    /// A change's outcome as Scalelite answers it: 404 for an unknown server, 400 with the reason for a change that is
    /// invalid or refused, else <paramref name="success"/> once this replica sees the change.
    /// </summary>
    private static async Task<IResult> AnswerAsync(string? id, LifecycleResult result, IServerDirectory directory, Func<Server, IResult> success, CancellationToken ct)
    {
        switch (result.Status)
        {
            case LifecycleStatus.Done:
                await directory.RefreshAsync(ct);
                return success(result.Server!);
            case LifecycleStatus.NotFound:
                return NotFound(id);
            default:
                return BadRequest(result.Error!);
        }
    }

    /// <summary>
    /// The checks before an admin call: a JSON body, then the checksum over its name and query string with an admin
    /// secret (never a tenant's).
    /// </summary>
    internal static async ValueTask<object?> VerifyRequest(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsPost(http.Request.Method) && HasBody(http.Request) && !IsJson(http.Request.ContentType))
        {
            return Failed(BbbError.UnsupportedContentType, StatusCodes.Status415UnsupportedMediaType);
        }

        var options = http.RequestServices.GetRequiredService<IOptions<ScaleliteOptions>>().Value;
        var call = http.Request.Path.Value![(Prefix.Length + 1)..];
        var raw = http.Request.QueryString.HasValue ? http.Request.QueryString.Value![1..] : string.Empty;
        var (query, checksum) = Checksum.SplitChecksum(raw);
        if (checksum is null || !Checksum.Verify(call, query, checksum, options.AdminSecretList(), options.AcceptedAlgorithms()))
        {
            return Failed(BbbError.ChecksumError, StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }

    private static bool HasBody(HttpRequest request) => request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    /// <summary>JSON as Rails takes it: <c>application/json</c> and its aliases, any parameters (charset) aside.</summary>
    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Value?.ToLowerInvariant() is "application/json" or "text/x-json" or "application/jsonrequest";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = JsonNumberHandling.AllowReadingFromString };

    private static async Task<T?> ReadAsync<T>(HttpContext context) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IResult BadRequest(string error) => Results.Json(new { error }, statusCode: StatusCodes.Status400BadRequest);

    private static IResult NotFound(string? id) => Results.Json(new { error = $"Couldn't find server with id={id}" }, statusCode: StatusCodes.Status404NotFound);

    private sealed record ServerFields(
        string? Id,
        string? Url,
        string? Secret,
        string? Tag,
        string? State,
        [property: JsonPropertyName("load_multiplier")] double? LoadMultiplier,
        [property: JsonPropertyName("keep_state")] bool? KeepState);

    private sealed record AddServerBody(ServerFields? Server);

    private sealed record UpdateServerBody(string? Id, ServerFields? Server);

    private sealed record IdBody(string? Id, ServerFields? Server);

    private sealed record PanicBody(string? Id, [property: JsonPropertyName("keep_state")] bool? KeepState, ServerFields? Server);
}

/// <summary>A server as Scalelite's admin API shows it.</summary>
public sealed record ServerJson(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("tag")] string? Tag,
    [property: JsonPropertyName("bbb_version")] string? BbbVersion,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("load")] object Load,
    [property: JsonPropertyName("load_multiplier")] double LoadMultiplier,
    [property: JsonPropertyName("online")] string Online)
{
    public static ServerJson From(Server s) => new(
        s.Id, s.Url, s.Secret, s.Tag, s.BbbVersion, s.State.ToString().ToLowerInvariant(),
        s.Load is { } load && s.Online ? load : "unavailable", s.LoadMultiplier, s.Online ? "online" : "offline");
}
