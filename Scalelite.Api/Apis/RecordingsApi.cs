using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Scalelite.Api.Bbb;
using Scalelite.Api.Recordings;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Apis;

/// <summary>
/// The recording calls of the BBB API, answered from the recording index in PostgreSQL, plus the playback routes
/// of protected recordings. getRecordings, publishRecordings, deleteRecordings and updateRecordings sit in
/// <see cref="BbbApi"/>'s route table; the text-track calls answer JSON (errors included), so they have their own
/// routes here.
/// </summary>
public static partial class RecordingsApi
{
    public static IEndpointRouteBuilder MapRecordingsApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods(BbbApi.Prefix + "/getRecordingTextTracks", [HttpMethods.Get, HttpMethods.Post], GetRecordingTextTracks);
        app.MapMethods(BbbApi.Prefix + "/putRecordingTextTrack", [HttpMethods.Post], PutRecordingTextTrack);
        app.MapGet("/recording/{recordID}/{format}", Play);
        app.MapGet("/recording-resource/{format}/{recordID}/{**path}", Resource);
        return app;
    }

    private static RecordingServices Services(BbbRequest request) => request.HttpContext.RequestServices.GetRequiredService<RecordingServices>();

    private static CancellationToken Aborted(BbbRequest request) => request.HttpContext.RequestAborted;

    public static async Task<IResult> GetRecordings(BbbRequest request, BbbServices _)
    {
        var s = Services(request);
        var (filter, error) = RecordingFilter.Parse(request.Parameters, s.Options.Value.GetRecordingsApiFiltered);
        if (error is not null)
        {
            return BbbResults.Failed(error);
        }

        var pages = s.Store.PagesAsync(request.Tenant.Id, filter!, Aborted(request)).GetAsyncEnumerator(Aborted(request));
        // The first page is read here, before any byte is sent, so that a database failure is still a FAILED answer.
        if (!await pages.MoveNextAsync())
        {
            await pages.DisposeAsync();
            return BbbResults.Xml(RecordingsXml.NoRecordings());
        }

        return new RecordingsXml(pages, s.BaseUrl(request.HttpContext.Request), s.Options.Value.ProtectedRecordingsEnabled ? s.Protection : null);
    }

    public static async Task<IResult> PublishRecordings(BbbRequest request, BbbServices _)
    {
        var ids = RecordingFilter.List(request["recordID"]);
        if (ids.Count == 0)
        {
            return BbbResults.Failed(BbbError.MissingRecordId);
        }

        var publish = request.Required("publish")?.ToLowerInvariant();
        if (publish is not ("true" or "false"))
        {
            return BbbResults.Failed(BbbError.MissingPublish);
        }

        var value = publish == "true";
        return await Services(request).Commands.PublishAsync(request.Tenant.Id, ids, value, Aborted(request))
            ? BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("published", value ? "true" : "false")))
            : BbbResults.Failed(BbbError.RecordingsNotFound);
    }

    public static async Task<IResult> DeleteRecordings(BbbRequest request, BbbServices _)
    {
        var ids = RecordingFilter.List(request["recordID"]);
        if (ids.Count == 0)
        {
            return BbbResults.Failed(BbbError.MissingRecordId);
        }

        return await Services(request).Commands.DeleteAsync(request.Tenant.Id, ids, Aborted(request))
            ? BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("deleted", "true")))
            : BbbResults.Failed(BbbError.RecordingsNotFound);
    }

    public static async Task<IResult> UpdateRecordings(BbbRequest request, BbbServices _)
    {
        var ids = RecordingFilter.List(request["recordID"]);
        if (ids.Count == 0)
        {
            return BbbResults.Failed(BbbError.MissingRecordId);
        }

        var s = Services(request);
        var metadata = request.Parameters
            .Where(p => p.Key.StartsWith("meta_", StringComparison.Ordinal) && p.Key.Length > 5)
            .Select(p => new KeyValuePair<string, string>(p.Key[5..], p.Value))
            .ToList();
        bool? protect = s.Options.Value.ProtectedRecordingsEnabled && request["protect"] is { } p
            ? string.Equals(p, "true", StringComparison.OrdinalIgnoreCase)
            : null;
        return await s.Commands.UpdateAsync(request.Tenant.Id, ids, metadata, protect, Aborted(request))
            ? BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("updated", "true")))
            : BbbResults.Failed(BbbError.RecordingsNotFound);
    }

    private static async Task<IResult> GetRecordingTextTracks(HttpContext context, [AsParameters] RecordingServices s)
    {
        var (request, error) = await s.Reader.ReadAsync(context, "getRecordingTextTracks");
        if (error is not null)
        {
            return JsonFailed(error.MessageKey, error.Message);
        }

        if (request!.Required("recordID") is not { } recordId)
        {
            return JsonFailed(BbbError.MissingRecordId.MessageKey, BbbError.MissingRecordId.Message);
        }

        var recording = await s.Commands.FindAsync(request.Tenant.Id, recordId, context.RequestAborted);
        if (recording is null)
        {
            return JsonFailed("noRecordings", $"No recording was found for {recordId}");
        }

        var baseUrl = s.BaseUrl(context.Request);
        var tracks = recording.TextTracks.OrderBy(t => t.Lang, StringComparer.Ordinal).ThenBy(t => t.Kind, StringComparer.Ordinal)
            .Select(t => new { href = $"{baseUrl}/{t.Path}", kind = t.Kind, label = t.Label, lang = t.Lang, source = t.Source });
        return Results.Json(new { response = new { returncode = "SUCCESS", tracks } });
    }

    private static async Task<IResult> PutRecordingTextTrack(HttpContext context, [AsParameters] RecordingServices s)
    {
        var (request, error) = await s.Reader.ReadAsync(context, "putRecordingTextTrack");
        if (error is not null)
        {
            return JsonFailed(error.MessageKey, error.Message);
        }

        if (request!.Required("recordID") is not { } recordId)
        {
            return JsonFailed(BbbError.MissingRecordId.MessageKey, BbbError.MissingRecordId.Message);
        }

        var kind = request["kind"];
        if (kind is not ("subtitles" or "captions"))
        {
            return JsonFailed("invalidKind", $"Invalid kind parameter, expected='subtitles|captions' actual={kind}");
        }

        if (request["lang"] is not { } lang || !LanguageTag().IsMatch(lang))
        {
            return JsonFailed("invalidLang", "Malformed lang param, received=" + request["lang"]);
        }

        var file = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync(context.RequestAborted)).Files.GetFile("file") : null;
        if (file is null || file.Length == 0)
        {
            return JsonFailed("empty_uploaded_text_track", "Empty uploaded text track.");
        }

        if (file.Length > s.Options.Value.MaxTextTrackSize)
        {
            return JsonFailed("maxFileSizeExceeded", "The uploaded text track is too large.");
        }

        var recording = await s.Commands.FindAsync(request.Tenant.Id, recordId, context.RequestAborted);
        if (recording is null || !RecordingFiles.IsSafeSegment(recordId))
        {
            return JsonFailed("noRecordings", $"No recording was found for {recordId}");
        }

        var name = $"{kind}_{lang}.vtt";
        await using (var content = file.OpenReadStream())
        {
            await s.Files.SaveCaptionAsync(recordId, name, content, context.RequestAborted);
        }

        var label = request.Required("label") ?? lang;
        var track = new TextTrack { Kind = kind, Lang = lang, Label = label, Source = "upload", Path = $"captions/{recordId}/{name}" };
        if (!await s.Commands.SaveTextTrackAsync(request.Tenant.Id, recordId, track, context.RequestAborted))
        {
            return JsonFailed("noRecordings", $"No recording was found for {recordId}");
        }

        return Results.Json(new
        {
            response = new { returncode = "SUCCESS", messageKey = "upload_text_track_success", message = "Text track uploaded successfully", recordId },
        });
    }

    /// <summary>
    /// The playback URL of a protected recording: redeems the one-time token, sets the cookie scoped to this
    /// recording's files, and hands over to the web server: an internal redirect to the file when the playback URL is a
    /// file of the recording, else a redirect to the player page, whose requests for the files then carry the cookie.
    /// </summary>
    private static async Task<IResult> Play(string recordID, string format, string? token, HttpContext context, [AsParameters] RecordingServices s)
    {
        if (!RecordingFiles.IsSafeSegment(recordID) || !RecordingFiles.IsSafeSegment(format)
            || !await s.Protection.RedeemAsync(token, recordID, format))
        {
            return Results.NotFound("This playback link is not valid or has expired.");
        }

        var recording = await s.Commands.FindAsync(null, recordID, context.RequestAborted);
        var playback = recording?.Formats.Find(f => f.Format == format);
        if (recording is not { Published: true } || playback is null)
        {
            return Results.NotFound("Recording not found.");
        }

        var baseUrl = s.BaseUrl(context.Request);
        context.Response.Cookies.Append(PlaybackProtection.CookieName(recordID), s.Protection.CookieValue(recordID, format), new CookieOptions
        {
            Path = PlaybackProtection.CookiePath(recordID, format),
            HttpOnly = true,
            Secure = baseUrl.StartsWith("https:", StringComparison.Ordinal),
            SameSite = SameSiteMode.Lax,
            MaxAge = s.Options.Value.CookieLifetime,
        });
        context.Response.Headers.CacheControl = "no-store";

        var path = PublicUrls.PathOf(playback.Url);
        return path.StartsWith(PlaybackProtection.CookiePath(recordID, format) + "/", StringComparison.Ordinal)
            ? AccelRedirect(context, s.Options.Value.InternalLocation + path)
            : Results.Redirect(PublicUrls.Rewrite(playback.Url, baseUrl));
    }

    /// <summary>
    /// A file of a recording, as the web server asks for it (<c>/{format}/{recordID}/...</c> rewritten to this route):
    /// checks the recording is published and, when protected, that the request carries its cookie, then lets the web
    /// server send the file from its internal location.
    /// </summary>
    private static async Task<IResult> Resource(string format, string recordID, string? path, HttpContext context, [AsParameters] RecordingServices s)
    {
        if (!RecordingFiles.IsSafeSegment(recordID) || !RecordingFiles.IsSafeSegment(format)
            || (path ?? string.Empty).Split('/').Any(segment => segment is "." or ".."))
        {
            return Results.NotFound();
        }

        var recording = await s.Commands.FindAsync(null, recordID, context.RequestAborted);
        if (recording is not { Published: true } || recording.Formats.TrueForAll(f => f.Format != format))
        {
            return Results.NotFound();
        }

        if (recording.Protected && s.Options.Value.ProtectedRecordingsEnabled)
        {
            if (!s.Protection.IsValidCookie(context.Request.Cookies[PlaybackProtection.CookieName(recordID)], recordID, format))
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            context.Response.Headers.CacheControl = "private, no-store";
        }

        return AccelRedirect(context, $"{s.Options.Value.InternalLocation}/{format}/{recordID}/{path}");
    }

    private static IResult AccelRedirect(HttpContext context, string location)
    {
        context.Response.Headers["X-Accel-Redirect"] = location;
        return Results.Ok();
    }

    private static IResult JsonFailed(string messageKey, string message) =>
        Results.Json(new { response = new { returncode = "FAILED", messageKey, message } });

    [GeneratedRegex("^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
    private static partial Regex LanguageTag();
}

/// <summary>What the recording calls depend on, bound in one go.</summary>
public sealed record RecordingServices(
    BbbRequestReader Reader,
    RecordingStore Store,
    RecordingCommands Commands,
    RecordingFiles Files,
    PlaybackProtection Protection,
    IOptions<RecordingOptions> Options,
    IOptions<ScaleliteOptions> Balancer)
{
    public string BaseUrl(HttpRequest request) => PublicUrls.Base(request, Balancer.Value.UrlHost);
}
