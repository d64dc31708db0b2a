using Scalelite.Core.Bbb;

namespace Scalelite.Api.Bbb;

/// <summary>HTTP answers of the BBB API: XML on HTTP 200, as BBB sends it.</summary>
public static class BbbResults
{
    public const string XmlContentType = "text/xml; charset=utf-8";

    public static IResult Xml(byte[] body) => Results.Bytes(body, XmlContentType);

    /// <summary>A FAILED answer; it carries its messageKey, which the outcome counters read (<c>Monitoring/ApiOutcomes</c>).</summary>
    public static IResult Failed(BbbError error) => new FailedAnswer(error.MessageKey, BbbXml.Failed(error));

    /// <summary>The messageKey of a FAILED answer made here or passed through from a backend; null for any other answer.</summary>
    public static string? FailedKey(IResult result) => result switch
    {
        FailedAnswer failed => failed.MessageKey,
        RedirectResult redirect => redirect.FailedKey,
        _ => null,
    };

    /// <summary>Whether the answer is a join's redirect.</summary>
    public static bool IsRedirect(IResult result) => result is RedirectResult;

    /// <summary>
    /// A 302 to <paramref name="url"/> with an empty body, as BBB's join answers. Unlike <c>Results.Redirect</c> it
    /// needs no logger from the request's services, so the join path opens no request scope.
    /// </summary>
    public static IResult Redirect(string url) => new RedirectResult(url, null);

    /// <summary>A join's error sent to the LMS's <c>errorRedirectUrl</c>: a redirect, counted as the FAILED answer it stands for.</summary>
    public static IResult ErrorRedirect(string url, BbbError error) => new RedirectResult(url, error.MessageKey);

    private sealed class RedirectResult(string url, string? failedKey) : IResult
    {
        public string? FailedKey { get; } = failedKey;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status302Found;
            httpContext.Response.Headers.Location = url;
            return Task.CompletedTask;
        }
    }

    /// <summary>A backend's answer, passed through as it came (SUCCESS or FAILED alike).</summary>
    public static IResult PassThrough(BackendResponse response, string call) =>
        !response.Answered ? Failed(BbbError.Unreachable(call))
        : response.IsSuccess ? Xml(response.Body)
        : new FailedAnswer(response.MessageKey ?? "unknown", response.Body);

    private sealed class FailedAnswer(string messageKey, byte[] body) : IResult
    {
        public string MessageKey { get; } = messageKey;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = XmlContentType;
            httpContext.Response.ContentLength = body.Length;
            return httpContext.Response.Body.WriteAsync(body).AsTask();
        }
    }
}
