using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Scalelite.Tests.ServiceDefaults;

/// <summary>Telemetry is collected when it is exported, and only then: unread traces cost every request.</summary>
public class TelemetryTests
{
    [Fact]
    public void AddServiceDefaults_WithoutOtlpEndpoint_CollectsNothing()
    {
        Assert.DoesNotContain(Configure(endpoint: null), FromOpenTelemetry);
    }

    [Fact]
    public void AddServiceDefaults_WithOtlpEndpoint_CollectsLogsMetricsAndTraces()
    {
        var services = Configure(endpoint: "http://127.0.0.1:4317");
        Assert.Contains(services, d => d.ServiceType == typeof(TracerProvider));
        Assert.Contains(services, d => d.ServiceType == typeof(MeterProvider));
        Assert.True(
            services.Count(d => d.ServiceType == typeof(ILoggerProvider)) > Configure(endpoint: null).Count(d => d.ServiceType == typeof(ILoggerProvider)),
            "the OpenTelemetry logger provider is added");
    }

    // The services are inspected, not built: a built host would export once, on disposal, to the endpoint.
    private static IServiceCollection Configure(string? endpoint)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint });
        builder.AddServiceDefaults();
        return builder.Services;
    }

    private static bool FromOpenTelemetry(ServiceDescriptor d) =>
        new[] { d.ServiceType, d.ImplementationType, d.ImplementationInstance?.GetType(), d.ImplementationFactory?.Method.DeclaringType }
            .Any(t => t?.Namespace?.StartsWith("OpenTelemetry", StringComparison.Ordinal) ?? false);
}
