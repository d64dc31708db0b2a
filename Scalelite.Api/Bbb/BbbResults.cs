using System.Diagnostics.Metrics;
using Scalelite.Core.Bbb;

namespace Scalelite.Api.Bbb;

/// <summary>HTTP answers of the BBB API: XML on HTTP 200, as BBB sends it.</summary>
public static class BbbResults
{
    public const string XmlContentType = "text/xml; charset=utf-8";

    public static readonly Meter Meter = new("Scalelite.Api");

    /// <summary>Every FAILED answer we give, by messageKey: join failures and placement failures show up here.</summary>
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("scalelite.api.failures", description: "FAILED answers given, by messageKey.");

    public static IResult Xml(byte[] body) => Results.Bytes(body, XmlContentType);

    public static IResult Failed(BbbError error)
    {
        Failures.Add(1, new KeyValuePair<string, object?>("messageKey", error.MessageKey));
        return Xml(BbbXml.Failed(error));
    }

    /// <summary>
    /// A 302 to <paramref name="url"/> with an empty body, as BBB's join answers. Unlike <c>Results.Redirect</c> it
    /// needs no logger from the request's services, so the join path opens no request scope.
    /// </summary>
    public static IResult Redirect(string url) => new RedirectResult(url);

    private sealed class RedirectResult(string url) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status302Found;
            httpContext.Response.Headers.Location = url;
            return Task.CompletedTask;
        }
    }

    /// <summary>A backend's answer, passed through as it came (SUCCESS or FAILED alike).</summary>
    public static IResult PassThrough(BackendResponse response, string call) =>
        response.Answered ? Xml(response.Body) : Failed(BbbError.Unreachable(call));
}
