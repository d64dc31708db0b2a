using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http.Features;

namespace Scalelite.BbbSimulator;

/// <summary>
/// <c>POST /sim/recordings/{meetingID}[?spool=DIR][&amp;size=BYTES][&amp;formats=presentation,video,podcast][&amp;published=false][&amp;thumbnails=N]</c>:
/// produces the recording of a meeting this server holds, as a BBB node's post-publish step would hand it over: a
/// <c>&lt;recordID&gt;.tar</c> with one <c>&lt;format&gt;/&lt;recordID&gt;/</c> tree per format, each with a
/// <c>metadata.xml</c>, dropped into the spool directory under a dot-name and renamed when complete. Without
/// <c>spool</c> the server's own <see cref="SimulatedServer.SpoolDirectory"/> (<c>--spool</c>) is used.
/// </summary>
internal static class Recordings
{
    public const string Prefix = "/sim/recordings/";

    private static readonly string[] DefaultFormats = ["presentation", "video", "podcast"];

    public static async Task HandleAsync(HttpContext context, SimulatedServer server)
    {
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "use POST");
            return;
        }

        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? string.Empty;
        var queryAt = raw.IndexOf('?', StringComparison.Ordinal);
        var meetingId = Uri.UnescapeDataString((queryAt >= 0 ? raw[..queryAt] : raw)[Prefix.Length..]);
        var query = context.Request.Query;
        var spool = query["spool"].ToString() is { Length: > 0 } given ? given : server.SpoolDirectory ?? string.Empty;
        if (spool.Length == 0 || !Directory.Exists(spool))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "spool must name an existing directory");
            return;
        }

        if (!server.Meetings.TryGetValue(meetingId, out var meeting))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, "notFound");
            return;
        }

        long size = 64 * 1024;
        if (query["size"].ToString() is { Length: > 0 } sizeText
            && (!long.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size > 512L << 20))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "size must be a byte count up to 512 MiB");
            return;
        }

        var formats = query["formats"].ToString() is { Length: > 0 } f
            ? f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : DefaultFormats;
        if (formats.Any(x => x is not ("presentation" or "video" or "podcast")))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, "formats are presentation, video, podcast");
            return;
        }

        var thumbnails = int.TryParse(query["thumbnails"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? Math.Clamp(t, 0, 50) : 3;
        var published = query["published"].ToString() != "false";
        var recording = new RecordingSpec(meeting, server, formats, size, thumbnails, published);
        var archive = await WriteArchiveAsync(recording, spool, context.RequestAborted);

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("recordID", recording.RecordId);
        writer.WriteString("meetingID", meeting.MeetingId);
        writer.WriteString("archive", archive);
        writer.WriteNumber("size", new FileInfo(archive).Length);
        writer.WriteStartArray("formats");
        foreach (var format in formats)
        {
            writer.WriteStringValue(format);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private sealed record RecordingSpec(Meeting Meeting, SimulatedServer Server, string[] Formats, long Size, int Thumbnails, bool Published)
    {
        public string RecordId => Meeting.InternalMeetingId;

        public string BaseUrl => $"http://{Server.Host}:{Server.Port}";
    }

    /// <summary>Writes <c>.&lt;recordID&gt;.tar.tmp</c> and renames it to <c>&lt;recordID&gt;.tar</c>, as the post-publish script does.</summary>
    private static async Task<string> WriteArchiveAsync(RecordingSpec spec, string spool, CancellationToken ct)
    {
        var temporary = Path.Combine(spool, $".{spec.RecordId}.tar.tmp");
        var final = Path.Combine(spool, $"{spec.RecordId}.tar");
        var perFormat = spec.Size / spec.Formats.Length;
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        await using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: false))
        {
            foreach (var format in spec.Formats)
            {
                var dir = $"{format}/{spec.RecordId}";
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, dir + "/"), ct);
                var media = Media(format);
                await WriteFileAsync(tar, $"{dir}/metadata.xml", Encoding.UTF8.GetBytes(Metadata(spec, format, perFormat).ToString()), ct);
                foreach (var thumb in format == "presentation" ? Enumerable.Range(1, spec.Thumbnails) : [])
                {
                    await WriteFileAsync(tar, $"{dir}/presentation/{SlideDeck(spec)}/thumbnails/thumb-{thumb}.png", Filler(200 + thumb, thumb), ct);
                }

                await WriteFileAsync(tar, $"{dir}/{media}", Filler(perFormat, format.Length), ct);
            }
        }

        File.Move(temporary, final, overwrite: true);
        return final;
    }

    private static async Task WriteFileAsync(TarWriter tar, string name, byte[] data, CancellationToken ct)
    {
        using var stream = new MemoryStream(data, writable: false);
        await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = stream }, ct);
    }

    private static string Media(string format) => format switch
    {
        "presentation" => "video/webcams.webm",
        "video" => "video-0.m4v",
        _ => "audio.ogg",
    };

    private static string SlideDeck(RecordingSpec spec) => $"d2d9a672040fbde2a47a10bf6c37b6a4b5ae187f-{spec.Meeting.CreateTime}";

    private static XElement Metadata(RecordingSpec spec, string format, long size)
    {
        var m = spec.Meeting;
        var end = spec.Server.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var duration = Math.Max(0, end - m.CreateTime);
        var link = format switch
        {
            "presentation" => $"{spec.BaseUrl}/playback/presentation/2.3/{spec.RecordId}",
            "video" => $"{spec.BaseUrl}/playback/video/{spec.RecordId}/",
            _ => $"{spec.BaseUrl}/podcast/{spec.RecordId}/audio.ogg",
        };
        var meta = new XElement("meta",
            new XElement("meetingName", m.Name),
            new XElement("isBreakout", m.IsBreakout ? "true" : "false"),
            new XElement("meetingId", m.MeetingId));
        foreach (var (key, value) in m.Metadata)
        {
            meta.Add(new XElement(key, value));
        }

        var playback = new XElement("playback",
            new XElement("format", format),
            new XElement("link", link),
            new XElement("processing_time", 1000 + (format.Length * 37)),
            new XElement("duration", duration));
        if (format == "presentation" && spec.Thumbnails > 0)
        {
            playback.Add(new XElement("extensions", new XElement("preview", new XElement("images",
                Enumerable.Range(1, spec.Thumbnails).Select(i => new XElement("image",
                    new XAttribute("width", 176), new XAttribute("height", 136), new XAttribute("alt", $"Slide {i}"),
                    $"{spec.BaseUrl}/presentation/{spec.RecordId}/presentation/{SlideDeck(spec)}/thumbnails/thumb-{i}.png"))))));
        }

        playback.Add(new XElement("size", size));
        lock (m.Sync)
        {
            return new XElement("recording",
                new XElement("id", spec.RecordId),
                new XElement("state", spec.Published ? "published" : "unpublished"),
                new XElement("published", spec.Published ? "true" : "false"),
                new XElement("start_time", m.CreateTime),
                new XElement("end_time", end),
                new XElement("participants", Math.Max(1, m.Attendees.Count + m.SyntheticViewers)),
                new XElement("meeting",
                    new XAttribute("id", m.InternalMeetingId),
                    new XAttribute("externalId", m.MeetingId),
                    new XAttribute("name", m.Name),
                    new XAttribute("breakout", m.IsBreakout ? "true" : "false")),
                meta,
                playback,
                new XElement("raw_size", spec.Size * 3));
        }
    }

    /// <summary>Media stand-in: bytes that do not compress to nothing, like real audio and video.</summary>
    private static byte[] Filler(long length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task ErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }));
    }
}
