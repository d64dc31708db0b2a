using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Cross-cutting defaults shared by every Scalelite service, shaped like Aspire's ServiceDefaults:
/// OpenTelemetry (our metrics always, for <c>/metrics</c>; everything over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), health checks,
/// service discovery and HTTP client defaults.
/// </summary>
/// <remarks>
/// Three deliberate departures from the template: telemetry is collected only when it is read (OTLP, or our own
/// metrics for the scrape endpoint);
/// <c>/health</c> and <c>/alive</c> are mapped in every environment because orchestrators probe them in
/// production; and HTTP clients get no retrying resilience handler, because a retry towards a BBB backend would
/// hide a failing node from the poller's health counting. Clients that talk to backends set a plain timeout instead.
/// </remarks>
public static class ServiceDefaultsExtensions
{
    /// <summary>The tag carried by our readiness checks (migrations, server directory); /health runs every check.</summary>
    public const string ReadyTag = "ready";
    private const string LiveTag = "live";

    /// <summary>Readiness: every check. Orchestrators probe it (deploy/kubernetes is checked against it).</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness: the process answers.</summary>
    public const string AlivePath = "/alive";

    /// <summary>Names of the meters and activity sources our own code emits.</summary>
    public const string TelemetryPrefix = "Scalelite.";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Per-request framework logs at Information cost as much as a join itself and would write signed join
        // URLs (credentials) to the logs; configuration (Logging:LogLevel:...) can still lower these.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        // Which health check results are worth a log entry is decided in one place.
        var startupHealthLog = new StartupHealthLog(TimeProvider.System);
        builder.Services.AddSingleton(startupHealthLog);
        builder.Logging.AddFilter(StartupHealthLog.Category, startupHealthLog.Allows);
        // Log messages carry what clients send: no control character in them may start a line or corrupt the log.
        builder.AddEscapingConsoleLog();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
        return builder;
    }

    /// <summary>
    /// OpenTelemetry: our own meters (<see cref="TelemetryPrefix"/>) and the runtime's are always collected, for the
    /// <c>/metrics</c> scrape endpoint (<see cref="MetricsEndpoint"/>); logs, traces and the framework's per-request
    /// metrics only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and then everything also goes out over OTLP.
    /// </summary>
    /// <remarks>
    /// Our instruments on the join path are observable: a join bumps a plain counter and the exporter reads it at
    /// scrape time, so collecting them costs the join nothing measurable. ASP.NET Core's request metrics and the spans
    /// cost a few percent of each join, which is paid only where something reads them.
    /// </remarks>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var exports = builder.ExportsTelemetry();
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(TelemetryPrefix + "*")
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (exports)
                {
                    metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                }
            });
        if (!exports)
        {
            return builder;
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        telemetry
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryPrefix + "*")
                .AddAspNetCoreInstrumentation(o =>
                    o.Filter = ctx => !ctx.Request.Path.StartsWithSegments(HealthPath) && !ctx.Request.Path.StartsWithSegments(AlivePath)
                        && !ctx.Request.Path.StartsWithSegments(MetricsEndpoint.Path))
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();

        return builder;
    }

    /// <summary>Whether telemetry leaves the process (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set); client integrations follow it.</summary>
    public static bool ExportsTelemetry(this IHostApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (ready: every check, including those the client integrations add for PostgreSQL and Redis;
    /// with the operator token, each check's data as JSON: <see cref="HealthReportWriter"/>),
    /// <c>/alive</c> (the process answers) and <c>/metrics</c> (Prometheus, operator token required: <see cref="MetricsEndpoint"/>).
    /// Each answer of <c>/health</c> is shown to <see cref="StartupHealthLog"/>, which learns from it when start-up is over.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapMetricsEndpoint();
        var startupHealthLog = app.Services.GetService<StartupHealthLog>();
        app.MapHealthChecks(HealthPath, new HealthCheckOptions
        {
            // The status word for probes, every check's data for an operator (HealthReportWriter), after noting the report.
            ResponseWriter = (context, report) =>
            {
                startupHealthLog?.Observe(report);
                return HealthReportWriter.WriteAsync(context, report);
            },
        });
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        return app;
    }
}
