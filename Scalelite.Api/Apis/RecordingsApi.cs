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
/// The recording calls of the BBB API, answered from the recording index in PostgreSQL. getRecordings,
/// publishRecordings, deleteRecordings and updateRecordings sit in <see cref="BbbApi"/>'s route table; the
/// text-track calls answer JSON (errors included), so they have their own routes here. Playback is
/// <see cref="PlaybackApi"/>'s. Every handler's dependencies are <see cref="RecordingServices"/>, bound once.
/// </summary>
public static partial class RecordingsApi
{
    public static IEndpointRouteBuilder MapRecordingsApi(this IEndpointRouteBuilder app)
    {
        var s = app.ServiceProvider.GetRequiredService<RecordingServices>();
        // Cast to Delegate: a lambda of HttpContext alone would bind as a RequestDelegate, and its IResult be dropped.
        app.MapMethods(BbbApi.Prefix + "/getRecordingTextTracks", [HttpMethods.Get, HttpMethods.Post], (Delegate)((HttpContext context) => GetRecordingTextTracks(context, s)));
        app.MapMethods(BbbApi.Prefix + "/putRecordingTextTrack", [HttpMethods.Post], (Delegate)((HttpContext context) => PutRecordingTextTrack(context, s)));
        return app;
    }

    private static CancellationToken Aborted(BbbRequest request) => request.HttpContext.RequestAborted;

    /// <summary>
    /// With <c>RECORDING_DISABLED=true</c>, Scalelite's answers (before any checksum is checked): getRecordings finds
    /// nothing, publishRecordings, updateRecordings and deleteRecordings find no recordings. Null when recordings are on.
    /// </summary>
    public static IResult? WhenDisabled(string call, RecordingServices s) => !s.Options.Value.Disabled ? null : call switch
    {
        "getRecordings" => BbbResults.Xml(RecordingsXml.NoRecordings()),
        "publishRecordings" or "updateRecordings" or "deleteRecordings" => BbbResults.Failed(BbbError.RecordingsNotFound),
        _ => null,
    };

    public static async Task<IResult> GetRecordings(BbbRequest request, BbbServices services)
    {
        var s = services.Recordings;
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

        long? total = request["offset"] is not null || request["limit"] is not null
            ? await s.Store.CountAsync(request.Tenant.Id, filter!, Aborted(request))
            : null;
        return new RecordingsXml(pages, s.BaseUrl(request.HttpContext.Request), s.Options.Value.ProtectedRecordingsEnabled ? s.Protection : null, total);
    }

    public static async Task<IResult> PublishRecordings(BbbRequest request, BbbServices services)
    {
        var ids = RecordingFilter.List(request["recordID"]);
        if (ids.Count == 0)
        {
            return BbbResults.Failed(BbbError.MissingRecordId);
        }

        if (request.Required("publish") is not { } publish)
        {
            return BbbResults.Failed(BbbError.MissingPublish);
        }

        // As Scalelite reads it: only "true" (in any case) publishes, any other value unpublishes.
        var value = string.Equals(publish, "true", StringComparison.OrdinalIgnoreCase);
        return await services.Recordings.Commands.PublishAsync(request.Tenant.Id, ids, value, Aborted(request))
            ? BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("published", value ? "true" : "false")))
            : BbbResults.Failed(BbbError.RecordingsNotFound);
    }

    public static async Task<IResult> DeleteRecordings(BbbRequest request, BbbServices services)
    {
        var ids = RecordingFilter.List(request["recordID"]);
        if (ids.Count == 0)
        {
            return BbbResults.Failed(BbbError.MissingRecordId);
        }

        return await services.Recordings.Commands.DeleteAsync(request.Tenant.Id, ids, Aborted(request))
            ? BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("deleted", "true")))
            : BbbResults.Failed(BbbError.RecordingsNotFound);
    }

    public static async Task<IResult> UpdateRecordings(BbbRequest request, BbbServices services)
    {
        var ids = RecordingFilter.List(request["recordID"]);
        if (ids.Count == 0)
        {
            return BbbResults.Failed(BbbError.MissingRecordId);
        }

        var s = services.Recordings;
        // Keys lower-cased, as BBB and Scalelite store them.
        var metadata = request.Parameters
            .Where(p => p.Key.StartsWith("meta_", StringComparison.Ordinal) && p.Key.Length > 5)
            .Select(p => new KeyValuePair<string, string>(p.Key[5..].ToLowerInvariant(), p.Value))
            // A tenant's marks on its recordings are ours to set, not the LMS's.
            .Where(p => !(services.Recordings.Balancer.Value.MultitenancyEnabled && p.Key is "tenant-id" or "tenant-name"))
            .ToList();
        bool? protect = request["protect"] is { Length: > 0 } p ? RailsBoolean(p) : null;
        var updated = await s.Commands.UpdateAsync(request.Tenant.Id, ids, metadata, protect, Aborted(request));
        return BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("updated", updated ? "true" : "false")));
    }

    /// <summary>Scalelite casts <c>protect</c> as Rails casts a boolean: these exact spellings are false, anything else true.</summary>
    internal static bool RailsBoolean(string value) => value is not ("0" or "f" or "F" or "false" or "FALSE" or "off" or "OFF");

    private static async Task<IResult> GetRecordingTextTracks(HttpContext context, RecordingServices s)
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

    private static async Task<IResult> PutRecordingTextTrack(HttpContext context, RecordingServices s)
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
        if (recording is null || !RecordingFiles.IsSafeName(recordId))
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

    private static IResult JsonFailed(string messageKey, string message) =>
        Results.Json(new { response = new { returncode = "FAILED", messageKey, message } });

    [GeneratedRegex("^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
    private static partial Regex LanguageTag();
}

/// <summary>What the recording and playback handlers depend on, bound once (all singletons).</summary>
public sealed record RecordingServices(
    BbbRequestReader Reader,
    RecordingStore Store,
    RecordingCommands Commands,
    RecordingFiles Files,
    PlaybackProtection Protection,
    IOptions<RecordingOptions> Options,
    IOptions<ScaleliteOptions> Balancer,
    Scalelite.Core.Tenancy.ITenantResolver Tenants)
{
    public string BaseUrl(HttpRequest request) => PublicUrls.Base(request, Balancer.Value.UrlHost);

    /// <summary>
    /// With multitenancy, a recording plays only where its tenant's API is served: on the tenant's host, under its
    /// path, or (the default tenant's) on the bare host when that serves the default tenant.
    /// </summary>
    public bool MayPlay(HttpRequest request, Recording recording) =>
        !Balancer.Value.MultitenancyEnabled || Tenants.Resolve(request)?.Id == recording.TenantId;
}
