using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Scalelite.Api.Apis;
using Scalelite.Api.Bbb;
using Scalelite.Core.Bbb;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;

namespace Scalelite.Api.Extensions;

/// <summary>A request that met a PostgreSQL outage: answered in the caller's own terms, and logged once per outage.</summary>
/// <remarks>
/// The BBB API answers as BBB does, FAILED XML on HTTP 200 (<c>internalError</c>, asking to try again); every other
/// path (the operator API, Scalelite's admin API, playback) answers 503 with a problem-details body and
/// <c>Retry-After</c>, since the request was fine and only the database is missing. The outage is logged through
/// <see cref="OutageLog"/>: once when it begins and then as a summary at an interval, not a stack trace per request.
/// Handling it here also keeps ASP.NET Core's own "unhandled exception" log quiet for it. Any other exception falls
/// through to the last-resort handler, which logs it in full.
/// </remarks>
internal sealed class DatabaseOutageHandler(TimeProvider time, ILogger<DatabaseOutageHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client is asked to wait: about how long the services take to notice PostgreSQL is back.</summary>
    private const int RetryAfterSeconds = 5;

    private readonly OutageLog _outage = new(logger, "PostgreSQL", time);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!DatabaseOutage.IsOutage(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        _outage.Failed(exception);
        if (httpContext.Request.Path.StartsWithSegments(BbbApi.Prefix))
        {
            // The middleware has set 500 already; BBB answers every failure on 200.
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            await BbbResults.Failed(BbbError.Internal("The pool's database is unavailable; try again shortly.")).ExecuteAsync(httpContext);
            return true;
        }

        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Results.Problem(
            title: "PostgreSQL is unavailable",
            detail: "The pool's database does not answer. Try again shortly.",
            statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(httpContext);
        return true;
    }
}

public static class DatabaseOutageExtensions
{
    /// <summary>How the API behaves while PostgreSQL is down: its answers, its logs and its readiness.</summary>
    public static IHostApplicationBuilder AddDatabaseOutageHandling(this IHostApplicationBuilder builder)
    {
        // A request that meets the outage is answered and logged once by the handler, not as a stack trace per request.
        builder.Services.AddExceptionHandler<DatabaseOutageHandler>();
        builder.Services.ConfigureDbContext<ScaleliteDbContext>(o => o.LogFailuresAtCaller());

        // Once its server snapshot is loaded the API routes joins and places creates without PostgreSQL, so an outage
        // makes it Degraded (HTTP 200), not unready: an orchestrator must not take every replica out of service for it.
        builder.Services.Configure<HealthCheckServiceOptions>(o =>
        {
            foreach (var check in o.Registrations.Where(r => r.Name == HealthCheckNames.Postgres))
            {
                check.FailureStatus = HealthStatus.Degraded;
            }
        });

        // The Degraded check is kept out of the log by StartupHealthLog (ServiceDefaults); the outage's own lines say it.
        return builder;
    }
}
