using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The Prometheus scrape endpoint, <c>/metrics</c>, on every service, behind the operator token
/// (<c>Authorization: Bearer SECRET</c> with an admin secret), as the operator API is.
/// </summary>
/// <remarks>
/// The API's listener faces the LMSs and the internet; its metrics name servers, rates of failure and load, which
/// nobody outside should read. A separate management listener would need a second port opened, proxied and documented
/// per service; Prometheus sends a bearer token as easily (<c>authorization: { credentials_file: ... }</c>), so the
/// token is required on every listener and no port is special. Without a validator registered nothing is served.
/// </remarks>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Path), branch => branch.Use(async (http, next) =>
        {
            if (OperatorBearer.IsPresented(http))
            {
                await next(http);
                return;
            }

            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await http.Response.WriteAsync("Send an admin secret as 'Authorization: Bearer SECRET'.\n");
        }));
        app.MapPrometheusScrapingEndpoint(Path);
        return app;
    }
}
