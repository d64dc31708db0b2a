using System.Globalization;
using System.Text;
using System.Xml;
using Scalelite.Api.Bbb;
using Scalelite.Core.Bbb;

namespace Scalelite.Api.Recordings;

/// <summary>
/// getRecordings' SUCCESS answer, written with an async <see cref="XmlWriter"/> straight to the response body page by
/// page, so that no answer, however many recordings it holds, is ever built in memory.
/// </summary>
/// <remarks>
/// The first page is read before the result is returned (see the handler), so a database failure still becomes a
/// FAILED answer; once the first byte is sent, a failure can only abort the connection. Fields and their order follow
/// BBB's answer: empty metadata values are written as CDATA, <c>length</c> is in whole minutes (rounded), times
/// are epoch milliseconds.
/// </remarks>
internal sealed class RecordingsXml(
    IAsyncEnumerator<IReadOnlyList<RecordingRow>> pages,
    string baseUrl,
    PlaybackProtection? protection,
    long? totalElements = null) : IResult
{
    private static readonly XmlWriterSettings Settings = new()
    {
        Encoding = new UTF8Encoding(false),
        CheckCharacters = false,
        CloseOutput = false,
    };

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var ct = httpContext.RequestAborted;
        var body = httpContext.Response.Body;
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = BbbResults.XmlContentType;

        // The writer fills a buffer one page at a time, which is then sent asynchronously (Kestrel refuses
        // synchronous writes); memory stays at one page whatever the number of recordings.
        using var buffer = new MemoryStream(64 * 1024);
        await using (pages)
        {
            using var writer = XmlWriter.Create(buffer, Settings);
            writer.WriteStartDocument();
            writer.WriteStartElement("response");
            writer.WriteElementString("returncode", "SUCCESS");
            writer.WriteStartElement("recordings");
            do
            {
                var page = pages.Current;
                var tokens = protection is null ? null : await protection.IssueTokensAsync(page);
                foreach (var recording in page)
                {
                    Write(writer, recording, baseUrl, tokens);
                }

                writer.Flush();
                await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct);
                buffer.SetLength(0);
            }
            while (await pages.MoveNextAsync());

            writer.WriteEndElement();
            if (totalElements is { } total)
            {
                // BBB 2.6 answers a paged call with the number of matches, after the recordings; PHP clients read it.
                writer.WriteElementString("totalElements", total.ToString(CultureInfo.InvariantCulture));
            }

            writer.WriteEndElement();
            writer.WriteEndDocument();
            writer.Flush();
            await body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct);
        }
    }

    /// <summary>The SUCCESS answer when nothing matched, as BBB words it.</summary>
    public static byte[] NoRecordings() => BbbXml.Write("SUCCESS", w =>
    {
        w.WriteElementString("messageKey", "noRecordings");
        w.WriteElementString("message", "No recordings found");
        w.WriteStartElement("recordings");
        w.WriteEndElement();
    });

    internal static void Write(XmlWriter w, RecordingRow r, string baseUrl, IReadOnlyDictionary<(long, string), string>? tokens)
    {
        w.WriteStartElement("recording");
        w.WriteSafeString("recordID", r.RecordId);
        w.WriteSafeString("meetingID", r.MeetingId);
        w.WriteSafeString("internalMeetingID", r.InternalMeetingId);
        w.WriteStartElement("name");
        WriteCData(w, r.Name);
        w.WriteEndElement();
        w.WriteElementString("isBreakout", Bool(r.IsBreakout));
        w.WriteElementString("published", Bool(r.Published));
        w.WriteSafeString("state", r.State);
        w.WriteElementString("startTime", Millis(r.StartTime));
        w.WriteElementString("endTime", Millis(r.EndTime));
        w.WriteElementString("participants", r.Participants.ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("rawSize", r.RawSize.ToString(CultureInfo.InvariantCulture));

        w.WriteStartElement("metadata");
        foreach (var (key, value) in r.Metadata)
        {
            if (!IsName(key))
            {
                continue;
            }

            w.WriteStartElement(key);
            WriteCData(w, value);
            w.WriteEndElement();
        }

        w.WriteEndElement();

        w.WriteStartElement("playback");
        foreach (var format in r.Formats)
        {
            w.WriteStartElement("format");
            w.WriteSafeString("type", format.Format);
            var url = tokens is not null && tokens.TryGetValue((r.Id, format.Format), out var token)
                ? $"{baseUrl}/recording/{Uri.EscapeDataString(r.RecordId)}/{Uri.EscapeDataString(format.Format)}?token={token}"
                : PublicUrls.Rewrite(format.Url, baseUrl);
            w.WriteSafeString("url", url);
            w.WriteElementString("processingTime", format.ProcessingTime.ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("length", Minutes(format.Duration).ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("size", format.Size.ToString(CultureInfo.InvariantCulture));
            if (format.Thumbnails.Count > 0)
            {
                w.WriteStartElement("preview");
                w.WriteStartElement("images");
                foreach (var image in format.Thumbnails)
                {
                    w.WriteStartElement("image");
                    w.WriteAttributeString("alt", BbbXml.StripInvalid(image.Alt ?? string.Empty));
                    if (image.Height is { } height)
                    {
                        w.WriteAttributeString("height", height.ToString(CultureInfo.InvariantCulture));
                    }

                    if (image.Width is { } width)
                    {
                        w.WriteAttributeString("width", width.ToString(CultureInfo.InvariantCulture));
                    }

                    w.WriteString(BbbXml.StripInvalid(PublicUrls.Rewrite(image.Url, baseUrl)));
                    w.WriteEndElement();
                }

                w.WriteEndElement();
                w.WriteEndElement();
            }

            w.WriteEndElement();
        }

        w.WriteEndElement();
        w.WriteEndElement();
    }

    /// <summary>BBB's <c>length</c>: the duration in minutes, rounded to the nearest minute.</summary>
    public static long Minutes(long durationMs) => (durationMs + 30_000) / 60_000;

    private static string Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    /// <summary>CDATA, with any <c>]]&gt;</c> split across two sections so the value survives unchanged.</summary>
    private static void WriteCData(XmlWriter w, string value)
    {
        var text = BbbXml.StripInvalid(value);
        var start = 0;
        int end;
        while ((end = text.IndexOf("]]>", start, StringComparison.Ordinal)) >= 0)
        {
            w.WriteCData(text[start..(end + 2)]);
            start = end + 2;
        }

        w.WriteCData(text[start..]);
    }

    /// <summary>Metadata keys become element names; a key that cannot be one is left out rather than breaking the document.</summary>
    private static bool IsName(string key) =>
        key.Length > 0 && XmlConvert.IsStartNCNameChar(key[0]) && key.All(XmlConvert.IsNCNameChar);
}
