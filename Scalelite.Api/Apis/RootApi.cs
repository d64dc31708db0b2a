using Microsoft.Extensions.Diagnostics.HealthChecks;
using Scalelite.Api.Bbb;
using Scalelite.Core.Bbb;

namespace Scalelite.Api.Apis;

/// <summary>The paths outside the BBB API that Scalelite answers, for load balancers and probes set up against it.</summary>
/// <remarks>
/// <para><c>GET /health_check</c> and any method on <c>/</c> answer <c>text/plain</c> <c>success</c>, as Scalelite's
/// health check does; when PostgreSQL or Redis fails its check the body is <c>Health Check Failure: ...</c>, still
/// HTTP 200, because existing probes match the body, not the status. <c>/health</c> and <c>/alive</c> remain the
/// probes to use from now on (they answer with a status).</para>
/// <para>Every other path nothing else answers gets BBB's <c>unsupportedRequest</c> XML on HTTP 200, as Scalelite
/// answers it, so a client that strays gets a BBB answer rather than an empty 404.</para>
/// </remarks>
public static class RootApi
{
    public const string HealthCheckPath = "/health_check";

    public static IEndpointRouteBuilder MapRootApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(HealthCheckPath, HealthCheck);
        app.Map("/", HealthCheck);
        // The operator API keeps its own JSON 404s.
        app.MapFallback((HttpContext context) => context.Request.Path.StartsWithSegments("/api") ? Results.NotFound() : BbbResults.Failed(BbbError.UnsupportedRequest));
        return app;
    }

    private static async Task<IResult> HealthCheck(HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(ServiceDefaultsExtensions.ReadyTag), ct);
        var failed = report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy).Select(e => $"{e.Key}: {e.Value.Description ?? e.Value.Exception?.Message ?? "unhealthy"}").ToList();
        return Results.Text(failed.Count == 0 ? "success" : "Health Check Failure: " + string.Join("; ", failed), "text/plain");
    }
}
