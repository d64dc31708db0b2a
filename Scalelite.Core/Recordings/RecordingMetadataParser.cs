using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Scalelite.Core.Persistence.Recordings;

namespace Scalelite.Core.Recordings;

/// <summary>A <c>metadata.xml</c> that cannot be taken as a recording, with a reason fit for an operator.</summary>
public sealed class RecordingFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One thumbnail of a playback format.</summary>
public sealed record ParsedThumbnail(string Url, int? Width, int? Height, string? Alt);

/// <summary>What one <c>&lt;format&gt;/&lt;recordID&gt;/metadata.xml</c> says.</summary>
public sealed record ParsedRecording(
    string RecordId,
    string State,
    bool Published,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    int Participants,
    long RawSize,
    string InternalMeetingId,
    string MeetingId,
    string Name,
    bool IsBreakout,
    IReadOnlyList<KeyValuePair<string, string>> Metadata,
    string Format,
    string Link,
    long ProcessingTime,
    long Duration,
    long Size,
    IReadOnlyList<ParsedThumbnail> Thumbnails)
{
    /// <summary>The recording row this metadata describes (without its id or timestamps).</summary>
    /// <param name="multitenancy">The recording is its tenant's, as the create marked it (<c>meta_tenant-id</c>); without
    /// multitenancy it is the default tenant's, and an LMS's own <c>meta_tenant-id</c> is just metadata.</param>
    public Recording ToRecording(bool importUnpublished, bool multitenancy = false) => new()
    {
        RecordId = RecordId,
        MeetingId = MeetingId,
        InternalMeetingId = InternalMeetingId,
        TenantId = multitenancy && Metadata.FirstOrDefault(m => m.Key == "tenant-id").Value is { Length: > 0 and <= 64 } tenant ? tenant : string.Empty,
        Name = Name,
        IsBreakout = IsBreakout,
        Published = Published && !importUnpublished,
        State = importUnpublished && State == RecordingState.Published ? RecordingState.Unpublished : State,
        StartTime = StartTime,
        EndTime = EndTime,
        Participants = Participants,
        RawSize = RawSize,
        Metadata = [.. Metadata.Select(m => new RecordingMetadata { Key = m.Key, Value = m.Value })],
    };

    public PlaybackFormat ToPlaybackFormat() => new()
    {
        Format = Format,
        Url = Link,
        ProcessingTime = ProcessingTime,
        Duration = Duration,
        Size = Size,
        Thumbnails = [.. Thumbnails.Select((t, i) => new Thumbnail { Url = t.Url, Width = t.Width, Height = t.Height, Alt = t.Alt, Sequence = i })],
    };
}

/// <summary>Reads BBB's per-format <c>metadata.xml</c> (as BBB 2.x and 3.x write it).</summary>
/// <remarks>
/// Required: <c>id</c>, <c>meeting/@id</c>, <c>meeting/@externalId</c>, <c>playback/format</c>. Everything else
/// falls back to what BBB would report for a missing element (0, empty, false), because older BBB versions omit
/// <c>participants</c>, <c>raw_size</c> and <c>size</c>. The <c>meta</c> children are taken as they are, including
/// BBB's own (<c>meetingName</c>, <c>meetingId</c>, <c>isBreakout</c>), which getRecordings lists too. DTDs are
/// refused, so an archive cannot make the parser read files or expand entities.
/// </remarks>
public static class RecordingMetadataParser
{
    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        MaxCharactersInDocument = 16 * 1024 * 1024,
    };

    public static ParsedRecording Parse(string path)
    {
        using var stream = File.OpenRead(path);
        return Parse(stream);
    }

    public static ParsedRecording Parse(Stream stream)
    {
        XElement root;
        try
        {
            using var reader = XmlReader.Create(stream, ReaderSettings);
            root = XElement.Load(reader);
        }
        catch (XmlException e)
        {
            throw new RecordingFormatException($"metadata.xml is not well-formed XML: {e.Message}", e);
        }

        if (root.Name.LocalName != "recording")
        {
            throw new RecordingFormatException($"metadata.xml has root <{root.Name.LocalName}>, expected <recording>.");
        }

        var recordId = Required(root.Element("id")?.Value.Trim(), "id");
        var meeting = root.Element("meeting") ?? throw new RecordingFormatException("metadata.xml has no <meeting>.");
        var playback = root.Element("playback") ?? throw new RecordingFormatException("metadata.xml has no <playback>.");
        var format = Required(playback.Element("format")?.Value.Trim(), "playback/format");
        if (!RecordingFiles.IsSafeName(recordId) || !RecordingFiles.IsSafeName(format))
        {
            throw new RecordingFormatException($"metadata.xml names an invalid recording '{format}/{recordId}'.");
        }

        var published = Bool(root.Element("published")?.Value, true);
        var state = root.Element("state")?.Value.Trim() is { Length: > 0 } s ? s : RecordingState.Of(published);
        var metadata = new List<KeyValuePair<string, string>>();
        foreach (var meta in root.Element("meta")?.Elements() ?? [])
        {
            metadata.Add(new(meta.Name.LocalName, meta.Value.Trim()));
        }

        var images = playback.Element("extensions")?.Element("preview")?.Element("images")?.Elements("image")
            ?? playback.Element("preview")?.Element("images")?.Elements("image")
            ?? [];
        var thumbnails = images
            .Where(i => i.Value.Trim().Length > 0)
            .Select(i => new ParsedThumbnail(i.Value.Trim(), Int(i.Attribute("width")?.Value), Int(i.Attribute("height")?.Value), i.Attribute("alt")?.Value))
            .ToList();

        return new ParsedRecording(
            recordId,
            state,
            published,
            Time(root.Element("start_time")?.Value, "start_time"),
            Time(root.Element("end_time")?.Value, "end_time"),
            (int)Long(root.Element("participants")?.Value, "participants"),
            Long(root.Element("raw_size")?.Value, "raw_size"),
            Required(meeting.Attribute("id")?.Value, "meeting/@id"),
            Required(meeting.Attribute("externalId")?.Value, "meeting/@externalId"),
            meeting.Attribute("name")?.Value ?? metadata.FirstOrDefault(m => m.Key == "meetingName").Value ?? string.Empty,
            Bool(meeting.Attribute("breakout")?.Value, false),
            metadata,
            format,
            playback.Element("link")?.Value.Trim() ?? string.Empty,
            Long(playback.Element("processing_time")?.Value, "processing_time"),
            Long(playback.Element("duration")?.Value, "duration"),
            Long(playback.Element("size")?.Value, "size"),
            thumbnails);
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw new RecordingFormatException($"metadata.xml has no {name}.") : value;

    private static bool Bool(string? value, bool fallback) => value?.Trim() switch
    {
        "true" => true,
        "false" => false,
        _ => fallback,
    };

    private static long Long(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return 0;
        }

        return long.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new RecordingFormatException($"metadata.xml: {name} '{value.Trim()}' is not a non-negative integer.");
    }

    private static int? Int(string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static DateTimeOffset Time(string? value, string name)
    {
        var ms = Long(value, name);
        return ms <= 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : throw new RecordingFormatException($"metadata.xml: {name} is out of range.");
    }
}
