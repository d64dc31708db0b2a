using Scalelite.Api.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Apis;

/// <summary>
/// Playback of recordings behind the web server (see <c>deploy/nginx/</c>): the one-time link of a protected
/// recording, and the check in front of every file of a recording. The API never sends a file itself; it answers
/// with an <c>X-Accel-Redirect</c> into the web server's internal location.
/// </summary>
/// <remarks>
/// The redirect path is built from the recording and format found in the index and a file path that passed
/// <see cref="RecordingFiles.IsSafeRelativePath"/>, never copied from the request: a traversal (<c>..%2F</c>,
/// <c>..\</c>, a look-alike of <c>/</c>) is answered 404 here rather than left to the web server's own checks.
/// </remarks>
public static class PlaybackApi
{
    public static IEndpointRouteBuilder MapPlaybackApi(this IEndpointRouteBuilder app)
    {
        var s = app.ServiceProvider.GetRequiredService<RecordingServices>();
        app.MapGet("/recording/{recordID}/{format}", (string recordID, string format, string? token, HttpContext context) => Play(recordID, format, token, context, s));
        app.MapGet("/recording-resource/{format}/{recordID}/{**path}", (string format, string recordID, string? path, HttpContext context) => Resource(format, recordID, path, context, s));
        return app;
    }

    /// <summary>
    /// The playback URL of a protected recording: redeems the one-time token, sets the cookie scoped to this
    /// recording's files, and hands over to the web server: an internal redirect to the file when the playback URL is a
    /// file of the recording, else a redirect to the player page, whose requests for the files then carry the cookie.
    /// </summary>
    private static async Task<IResult> Play(string recordID, string format, string? token, HttpContext context, RecordingServices s)
    {
        if (!RecordingFiles.IsSafeName(recordID) || !RecordingFiles.IsSafeName(format)
            || !await s.Protection.RedeemAsync(token, recordID, format))
        {
            return Results.NotFound("This playback link is not valid or has expired.");
        }

        var recording = await s.Commands.FindAsync(null, recordID, context.RequestAborted);
        var playback = recording?.Formats.Find(f => f.Format == format);
        if (recording is not { Published: true } || playback is null || !s.MayPlay(context.Request, recording))
        {
            return Results.NotFound("Recording not found.");
        }

        var baseUrl = s.BaseUrl(context.Request);
        context.Response.Cookies.Append(PlaybackProtection.CookieName(recording.RecordId), s.Protection.CookieValue(recording.RecordId, playback.Format), new CookieOptions
        {
            Path = PlaybackProtection.CookiePath(recording.RecordId, playback.Format),
            HttpOnly = true,
            Secure = baseUrl.StartsWith("https:", StringComparison.Ordinal),
            SameSite = SameSiteMode.Lax,
            MaxAge = s.Options.Value.CookieLifetime,
        });
        context.Response.Headers.CacheControl = "no-store";

        return FileOf(playback.Url, playback.Format, recording.RecordId) is { } file
            ? AccelRedirect(context, s, playback.Format, recording.RecordId, file)
            : Results.Redirect(PublicUrls.Rewrite(playback.Url, baseUrl));
    }

    /// <summary>
    /// A file of a recording, as the web server asks for it (<c>/{format}/{recordID}/...</c> rewritten to this route):
    /// checks the recording is published and, when protected, that the request carries its cookie, then lets the web
    /// server send the file from its internal location.
    /// </summary>
    private static async Task<IResult> Resource(string format, string recordID, string? path, HttpContext context, RecordingServices s)
    {
        if (!RecordingFiles.IsSafeName(recordID) || !RecordingFiles.IsSafeName(format) || !RecordingFiles.IsSafeRelativePath(path))
        {
            return Results.NotFound();
        }

        var recording = await s.Commands.FindAsync(null, recordID, context.RequestAborted);
        var playback = recording?.Formats.Find(f => f.Format == format);
        if (recording is not { Published: true } || playback is null || !s.MayPlay(context.Request, recording))
        {
            return Results.NotFound();
        }

        if (recording.Protected && s.Options.Value.ProtectedRecordingsEnabled)
        {
            if (!s.Protection.IsValidCookie(context.Request.Cookies[PlaybackProtection.CookieName(recording.RecordId)], recording.RecordId, playback.Format))
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            context.Response.Headers.CacheControl = "private, no-store";
        }

        return AccelRedirect(context, s, playback.Format, recording.RecordId, path);
    }

    /// <summary>The file a stored playback URL names inside its own recording, or null when it names something else (a player page).</summary>
    private static string? FileOf(string playbackUrl, string format, string recordId)
    {
        var path = PublicUrls.PathOf(playbackUrl);
        var end = path.IndexOfAny(['?', '#']);
        if (end >= 0)
        {
            path = path[..end];
        }

        var prefix = RecordingFiles.WebPath(format, recordId) + "/";
        return path.StartsWith(prefix, StringComparison.Ordinal) && RecordingFiles.IsSafeRelativePath(path[prefix.Length..])
            ? path[prefix.Length..]
            : null;
    }

    private static IResult AccelRedirect(HttpContext context, RecordingServices s, string format, string recordId, string file)
    {
        context.Response.Headers["X-Accel-Redirect"] = s.Options.Value.InternalLocation + RecordingFiles.WebPath(format, recordId, file);
        return Results.Ok();
    }
}
