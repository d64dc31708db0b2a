using System.Globalization;

namespace Scalelite.AppHost;

/// <summary>A project launched as <c>dotnet &lt;dll&gt;</c>: its resource name and its project directory.</summary>
public sealed record ProjectResource(string Name, string Project)
{
    public string DllPath(AppHostOptions options) =>
        Path.Combine(options.RepositoryRoot, Project, "bin", options.Configuration, "net10.0", Project + ".dll");
}

/// <summary>Addresses known once the infrastructure is up; the services' environment is derived from them.</summary>
public sealed record TopologyContext(
    string PostgresConnectionString,
    string RedisConnectionString,
    string Secret,
    IReadOnlyDictionary<string, int> ServicePorts,
    StateDirectory State);

/// <summary>
/// The whole local topology, declared here and nowhere else: the launcher and the end-to-end tests both start it
/// through <see cref="Build"/>. In order: PostgreSQL (database "scalelite") and Redis; one simulator process serving
/// N BBB servers; the Api, Poller and RecordingSync services; then every simulator registered and enabled through the
/// Api's admin API. Environment names follow Aspire's conventions (ConnectionStrings__*, services__*__http__0,
/// OTEL_*), so moving to Aspire later replaces this file.
/// </summary>
public static class ScaleliteTopology
{
    public const string DatabaseName = "scalelite";
    public const string PostgresName = "postgres";
    public const string RedisName = "redis";
    public const string ApiName = "api";
    public const string PollerName = "poller";
    public const string RecordingSyncName = "recordingsync";

    public static ProjectResource Simulators { get; } = new("simulators", "Scalelite.BbbSimulator");

    /// <summary>The services, in start order; they are stopped in reverse.</summary>
    public static IReadOnlyList<ProjectResource> Services { get; } =
    [
        new(ApiName, "Scalelite.Api"),
        new(PollerName, "Scalelite.Poller"),
        new(RecordingSyncName, "Scalelite.RecordingSync"),
    ];

    /// <summary>
    /// Snappy settings for a local run (a simulator shows up online within seconds). Used only when neither the
    /// launcher's environment nor <see cref="AppHostOptions.Environment"/> sets them.
    /// </summary>
    public static IReadOnlyDictionary<string, string> LocalDefaults { get; } = new Dictionary<string, string>
    {
        ["POLL_INTERVAL"] = "2",
        ["SERVER_UNHEALTHY_THRESHOLD"] = "2",
        ["SERVER_HEALTHY_THRESHOLD"] = "1",
        ["CONNECT_TIMEOUT"] = "1",
        ["RESPONSE_TIMEOUT"] = "2",
    };

    public static DistributedApplication Build(AppHostOptions options) => new(options);

    /// <summary>The simulator process's arguments: <c>--count N --secret S --ports p1,p2 --manifest FILE</c>.</summary>
    public static IReadOnlyList<string> SimulatorArguments(int count, string secret, IEnumerable<int> ports, string manifest) =>
        ["--count", count.ToString(CultureInfo.InvariantCulture), "--secret", secret,
         "--ports", string.Join(',', ports.Select(p => p.ToString(CultureInfo.InvariantCulture))), "--manifest", manifest];

    /// <summary>
    /// The environment a service gets on top of the launcher's own (children inherit it, so OTEL_EXPORTER_OTLP_ENDPOINT,
    /// LOADBALANCER_CHECKSUM_ALGORITHM, DEFAULT_CREATE_PARAMS and the like pass through unchanged).
    /// </summary>
    public static IReadOnlyDictionary<string, string?> ServiceEnvironment(
        ProjectResource service, TopologyContext context, AppHostOptions options, Func<string, string?> inherited)
    {
        var port = context.ServicePorts[service.Name];
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = Url(port),
            ["ConnectionStrings__" + DatabaseName] = context.PostgresConnectionString,
            ["ConnectionStrings__" + RedisName] = context.RedisConnectionString,
            ["OTEL_SERVICE_NAME"] = service.Name,
            ["DOTNET_ENVIRONMENT"] = inherited("DOTNET_ENVIRONMENT") ?? "Development",
            ["ASPNETCORE_ENVIRONMENT"] = inherited("ASPNETCORE_ENVIRONMENT") ?? "Development",
            ["LOADBALANCER_SECRET"] = context.Secret,
            ["URL_HOST"] = inherited("URL_HOST") ?? $"127.0.0.1:{context.ServicePorts[ApiName]}",
            ["RECORDING_SPOOL_DIR"] = RecordingDirectory(context.State, "spool"),
            ["RECORDING_WORK_DIR"] = RecordingDirectory(context.State, "work"),
            ["RECORDING_PUBLISH_DIR"] = RecordingDirectory(context.State, "published"),
            ["RECORDING_UNPUBLISH_DIR"] = RecordingDirectory(context.State, "unpublished"),
        };
        foreach (var (name, servicePort) in context.ServicePorts)
        {
            environment[$"services__{name}__http__0"] = Url(servicePort);
        }
        foreach (var (name, value) in LocalDefaults)
        {
            if (string.IsNullOrEmpty(inherited(name)))
            {
                environment[name] = value;
            }
        }
        foreach (var (name, value) in options.Environment)
        {
            environment[name] = value;
        }
        return environment;
    }

    public static IReadOnlyList<string> RecordingDirectories { get; } = ["spool", "work", "published", "unpublished"];

    public static string RecordingDirectory(StateDirectory state, string kind) => Path.Combine(state.Recordings, kind);

    public static string Url(int port) => $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
}
