using System.Text.Json;
using System.Text.Json.Serialization;

namespace Scalelite.AppHost;

/// <summary>One simulated BBB server, as in the simulator's manifest and in endpoints.json.</summary>
public sealed record SimulatorEndpoint(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("control")] string Control);

/// <summary>
/// The API's one URL (the load balancer's with several replicas), and each replica's own URL, for tests and tools that
/// address one replica.
/// </summary>
public sealed record ApiEndpoint(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("replicas")] IReadOnlyList<string>? Replicas = null);

public sealed record UrlEndpoint([property: JsonPropertyName("url")] string Url);

/// <summary>
/// Each service's Prometheus scrape URL; every one wants <c>Authorization: Bearer</c> and the API's secret
/// (docs/monitoring.md).
/// </summary>
public sealed record MetricsEndpoints(
    [property: JsonPropertyName("api")] string Api,
    [property: JsonPropertyName("poller")] string Poller,
    [property: JsonPropertyName("recordingsync")] string RecordingSync);

/// <summary>
/// What a running topology offers, written to <c>STATE/endpoints.json</c> for tools, benchmarks and tests once every
/// simulator is online, and removed at stop. <see cref="Dashboard"/> is the dashboard's login URL (null without one);
/// <see cref="Metrics"/> the services' <c>/metrics</c> URLs.
/// </summary>
public sealed record ScaleliteEndpoints(
    [property: JsonPropertyName("api")] ApiEndpoint Api,
    [property: JsonPropertyName("admin")] UrlEndpoint Admin,
    [property: JsonPropertyName("simulators")] IReadOnlyList<SimulatorEndpoint> Simulators,
    [property: JsonPropertyName("postgres")] string Postgres,
    [property: JsonPropertyName("redis")] string Redis,
    [property: JsonPropertyName("poller")] UrlEndpoint Poller,
    [property: JsonPropertyName("recordingsync")] UrlEndpoint RecordingSync,
    [property: JsonPropertyName("stateDirectory")] string StateDirectory,
    [property: JsonPropertyName("dashboard")] UrlEndpoint? Dashboard,
    [property: JsonPropertyName("metrics")] MetricsEndpoints? Metrics = null)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static ScaleliteEndpoints? Read(string path) =>
        JsonSerializer.Deserialize<ScaleliteEndpoints>(File.ReadAllText(path), JsonOptions);
}
