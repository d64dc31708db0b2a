using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Scalelite.Tests.ServiceDefaults;

/// <summary>
/// Our metrics are always collected (for /metrics); logs, traces and the framework's per-request metrics only when they
/// are exported: unread traces cost every request.
/// </summary>
public class TelemetryTests
{
    [Fact]
    public void AddServiceDefaults_WithoutOtlpEndpoint_CollectsOurMetricsOnly()
    {
        var services = Configure(endpoint: null);
        Assert.Contains(services, d => d.ServiceType == typeof(MeterProvider));
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(TracerProvider));
        Assert.DoesNotContain(services, d => d.ImplementationType?.Namespace?.StartsWith("OpenTelemetry.Logs", StringComparison.Ordinal) ?? false);
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
}
