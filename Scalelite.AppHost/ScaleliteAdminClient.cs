using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Scalelite.AppHost;

/// <summary>A server as the admin API's getServers lists it.</summary>
public sealed record AdminServer(string Id, string Url, string? Secret, string? State, bool Online);

/// <summary>
/// The Scalelite-compatible admin API (<c>/scalelite/api/*</c>), used the way an operator would: the launcher adds and
/// enables the simulators through it rather than writing to the database.
/// </summary>
/// <remarks>
/// Checksum = lowercase hex SHA-256 of call name + query string without the checksum + LOADBALANCER_SECRET.
/// The calls here carry no other query parameters, so it is SHA-256(callName + secret).
/// </remarks>
public sealed class ScaleliteAdminClient(HttpClient http, string adminUrl, string secret)
{
    private readonly string _adminUrl = adminUrl.TrimEnd('/');

    public static string Checksum(string callName, string query, string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(callName + query + secret)));

    public async Task<IReadOnlyList<AdminServer>> GetServersAsync(CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(Url("getServers"), cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Scalelite answers an empty pool with 404 {"error":"No servers are configured"}.
            return [];
        }

        var body = await EnsureSuccessAsync(response, "getServers", cancellationToken);
        var node = JsonNode.Parse(body);
        // Accept a bare array or an envelope such as {"servers":[...]}.
        var items = node as JsonArray ?? node?["servers"] as JsonArray ?? [];
        return items.OfType<JsonObject>().Select(Parse).ToList();
    }

    /// <summary>Adds a server (it starts disabled) and returns its id.</summary>
    public async Task<string> AddServerAsync(string url, string serverSecret, double loadMultiplier, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["server"] = new JsonObject { ["url"] = url, ["secret"] = serverSecret, ["load_multiplier"] = loadMultiplier },
        };
        using var response = await PostAsync("addServer", payload, cancellationToken);
        var body = await EnsureSuccessAsync(response, "addServer", cancellationToken);
        return JsonNode.Parse(body)?["id"]?.ToString()
            ?? throw new InvalidOperationException($"addServer answered without an id: {body}");
    }

    public async Task EnableServerAsync(string id, CancellationToken cancellationToken)
    {
        var payload = new JsonObject { ["id"] = id, ["server"] = new JsonObject { ["state"] = "enable" } };
        using var response = await PostAsync("updateServer", payload, cancellationToken);
        await EnsureSuccessAsync(response, "updateServer", cancellationToken);
    }

    public async Task DeleteServerAsync(string id, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("deleteServer", new JsonObject { ["id"] = id }, cancellationToken);
        await EnsureSuccessAsync(response, "deleteServer", cancellationToken);
    }

    private async Task<HttpResponseMessage> PostAsync(string call, JsonObject payload, CancellationToken cancellationToken)
    {
        // A buffered body with Content-Length, not chunked: every server understands it.
        using var content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json");
        return await http.PostAsync(Url(call), content, cancellationToken);
    }

    private Uri Url(string call) => new($"{_adminUrl}/{call}?checksum={Checksum(call, "", secret)}");

    private static AdminServer Parse(JsonObject server) => new(
        server["id"]?.ToString() ?? "",
        server["url"]?.ToString() ?? "",
        server["secret"]?.ToString(),
        server["state"]?.ToString(),
        IsOnline(server["online"]));

    // Scalelite writes "online"/"offline"; a boolean is accepted too.
    private static bool IsOnline(JsonNode? value) => value is JsonValue v &&
        ((v.TryGetValue<bool>(out var flag) && flag) || (v.TryGetValue<string>(out var text) && string.Equals(text, "online", StringComparison.OrdinalIgnoreCase)));

    private static async Task<string> EnsureSuccessAsync(HttpResponseMessage response, string call, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{call} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}", null, response.StatusCode);
        }
        return body;
    }
}
