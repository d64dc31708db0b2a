using Microsoft.Extensions.DependencyInjection;
using Scalelite.AppHost;

namespace Aspire.Hosting;

/// <summary>What every Scalelite service gets from the AppHost, and the recording volume they share.</summary>
public static class ScaleliteServiceExtensions
{
    /// <summary>Where the recording volume is mounted in a deployed container; Scalelite's default directories live under it.</summary>
    public const string RecordingMountPath = "/var/bigbluebutton";

    /// <summary>
    /// Snappy settings for a local run (a simulator shows up online within seconds), used only when the AppHost's own
    /// environment does not set them: the services inherit that environment, so <c>POLL_INTERVAL=5 dotnet run</c> wins.
    /// </summary>
    private static readonly Dictionary<string, string> LocalDefaults = new()
    {
        ["POLL_INTERVAL"] = "2",
        ["SERVER_UNHEALTHY_THRESHOLD"] = "2",
        ["SERVER_HEALTHY_THRESHOLD"] = "1",
        ["CONNECT_TIMEOUT"] = "1",
        ["RESPONSE_TIMEOUT"] = "2",
    };

    /// <summary>
    /// A Scalelite service: the project with an HTTP endpoint and <c>/health</c> as its health check. Run locally the
    /// endpoint is unproxied on <paramref name="port"/> (or one Aspire picks), so requests reach the service without a
    /// hop through DCP's proxy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddScaleliteService<TProject>(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, int? port = null)
        where TProject : IProjectMetadata, new()
    {
        var service = builder.AddProject<TProject>(name)
            // The services read ConnectionStrings__* only; per-property variables (SCALELITE_HOST, REDIS_PASSWORD, ...)
            // would be noise, and the SCALELITE_* ones look like settings of ours.
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
            // Plain http on loopback locally, TLS at the ingress when deployed: no developer certificate.
            .WithoutHttpsCertificate()
            // The API reads X-Forwarded-Proto/-Host itself (docs/configuration.md); the framework's middleware,
            // which Aspire switches on when publishing, would read them a second time on every request.
            .DisableForwardedHeaders();
        service = builder.ExecutionContext.IsPublishMode
            ? service.WithHttpEndpoint(name: "http")
            : service.WithHttpEndpoint(name: "http", port: port, targetPort: port, isProxied: false);
        return service.WithHttpHealthCheck("/health");
    }

    /// <summary>
    /// The load-balancer secret; run locally also the AppHost's environment name, <c>URL_HOST</c> (the API's address)
    /// and the local defaults, each unless the AppHost's own environment sets it.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithScaleliteSettings(
        this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ParameterResource> secret, LocalRun? local)
    {
        builder.WithEnvironment("LOADBALANCER_SECRET", secret);
        if (local is null)
        {
            return builder;
        }

        // DCP passes the AppHost's environment on, except its environment name: hand that over explicitly.
        var environmentName = builder.ApplicationBuilder.Environment.EnvironmentName;
        builder.WithEnvironment("DOTNET_ENVIRONMENT", environmentName).WithEnvironment("ASPNETCORE_ENVIRONMENT", environmentName);
        var defaults = new Dictionary<string, string>(LocalDefaults) { ["URL_HOST"] = new Uri(local.ApiBaseUrl).Authority };
        foreach (var (name, value) in defaults.Where(d => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(d.Key))))
        {
            builder.WithEnvironment(name, value);
        }

        return builder.WithEnvironment(context =>
        {
            if (context.ExecutionContext.Services.GetRequiredService<DistributedApplicationOptions>().DisableDashboard)
            {
                // Without the dashboard nothing reads the telemetry: the services then collect none (ServiceDefaults).
                context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
            }
        });
    }

    /// <summary>
    /// The recording volume. Run locally: its four directories under <paramref name="localRoot"/>, given as Scalelite's
    /// settings. Published: the project as usual, plus a volume named <c>recordings</c> at <see cref="RecordingMountPath"/>,
    /// where Scalelite's default spool, work, published and unpublished directories are.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRecordingVolume(this IResourceBuilder<ProjectResource> builder, string? localRoot)
    {
        if (!builder.ApplicationBuilder.ExecutionContext.IsPublishMode)
        {
            ArgumentNullException.ThrowIfNull(localRoot);
            foreach (var (setting, directory) in new[] { ("RECORDING_SPOOL_DIR", "spool"), ("RECORDING_WORK_DIR", "work"), ("RECORDING_PUBLISH_DIR", "published"), ("RECORDING_UNPUBLISH_DIR", "unpublished") })
            {
                var path = Directory.CreateDirectory(Path.Combine(localRoot, directory)).FullName;
                builder.WithEnvironment(setting, path);
            }

            return builder;
        }

        var project = builder.Resource;
        return builder.WithManifestPublishingCallback(async context =>
        {
            // The manifest has no volumes for projects: write the project as Aspire does, with the volume beside it.
            var path = project.Annotations.OfType<IProjectMetadata>().Last().ProjectPath;
            context.Writer.WriteString("type", "project.v0");
            context.Writer.WriteString("path", context.GetManifestRelativePath(path));
            await context.WriteCommandLineArgumentsAsync(project);
            await context.WriteEnvironmentVariablesAsync(project);
            context.WriteBindings(project);
            context.Writer.WriteStartArray("volumes");
            context.Writer.WriteStartObject();
            context.Writer.WriteString("name", "recordings");
            context.Writer.WriteString("target", RecordingMountPath);
            context.Writer.WriteBoolean("readOnly", false);
            context.Writer.WriteEndObject();
            context.Writer.WriteEndArray();
        });
    }
}
