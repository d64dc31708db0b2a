using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>Decides whether a bearer token is the operator's (an admin secret); registered by the services.</summary>
public interface IOperatorTokenValidator
{
    bool IsValid(ReadOnlySpan<byte> token);
}

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
            if (Authorized(http))
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

    private static bool Authorized(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && http.RequestServices.GetService<IOperatorTokenValidator>() is { } validator
            && validator.IsValid(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
    }
}
