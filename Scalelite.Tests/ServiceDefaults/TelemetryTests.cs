using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Scalelite.Tests.ServiceDefaults;

/// <summary>Telemetry is collected when it is exported, and only then: unread traces cost every request.</summary>
public class TelemetryTests
{
    [Fact]
    public void AddServiceDefaults_WithoutOtlpEndpoint_CollectsNothing()
    {
        using var host = Build(endpoint: null);
        Assert.Null(host.Services.GetService<TracerProvider>());
        Assert.Null(host.Services.GetService<MeterProvider>());
    }

    [Fact]
    public void AddServiceDefaults_WithOtlpEndpoint_TracesAndMeters()
    {
        using var host = Build(endpoint: "http://127.0.0.1:4317");
        Assert.NotNull(host.Services.GetService<TracerProvider>());
        Assert.NotNull(host.Services.GetService<MeterProvider>());
    }

    private static IHost Build(string? endpoint)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint });
        builder.AddServiceDefaults();
        return builder.Build();
    }
}
