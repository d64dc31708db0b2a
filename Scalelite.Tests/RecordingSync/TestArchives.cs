using System.Formats.Tar;
using System.Text;
using System.Xml.Linq;

namespace Scalelite.Tests.RecordingSync;

/// <summary>Builds recording archives (valid and broken ones) for the importer's tests.</summary>
internal static class TestArchives
{
    public static readonly string[] Formats = ["presentation", "video"];

    /// <summary>The files every format of <see cref="WriteRecording"/> holds, relative to its directory.</summary>
    public static readonly string[] FilesPerFormat = ["metadata.xml", "media.bin", "thumbnails/thumb-1.png"];

    public static string MetadataXml(string recordId, string format, string meetingId = "meeting-2342", bool published = true) =>
        new XElement("recording",
            new XElement("id", recordId),
            new XElement("state", published ? "published" : "unpublished"),
            new XElement("published", published ? "true" : "false"),
            new XElement("start_time", 1647181479536),
            new XElement("end_time", 1647181557090),
            new XElement("participants", 3),
            new XElement("meeting", new XAttribute("id", recordId), new XAttribute("externalId", meetingId), new XAttribute("name", "neuraum"), new XAttribute("breakout", "false")),
            new XElement("meta",
                new XElement("meetingName", "neuraum"),
                new XElement("isBreakout", "false"),
                new XElement("meetingId", meetingId),
                new XElement("bbb-origin", "Greenlight"),
                new XElement("gl-listed", "false")),
            new XElement("playback",
                new XElement("format", format),
                new XElement("link", $"https://bbb1.example/playback/{format}/2.3/{recordId}"),
                new XElement("processing_time", 4882),
                new XElement("duration", 32860),
                new XElement("extensions", new XElement("preview", new XElement("images",
                    new XElement("image", new XAttribute("width", 176), new XAttribute("height", 136), new XAttribute("alt", "Welcome"), $"https://bbb1.example/{format}/{recordId}/thumbnails/thumb-1.png")))),
                new XElement("size", 248378)),
            new XElement("raw_size", 871354)).ToString();

    /// <summary>A well-formed archive of <paramref name="recordId"/> with <see cref="Formats"/>.</summary>
    public static void WriteRecording(
        string path, string recordId, int mediaBytes = 4096, string meetingId = "meeting-2342", bool published = true, IReadOnlyList<string>? formats = null)
    {
        var entries = new List<(string, byte[]?)>();
        foreach (var format in formats ?? Formats)
        {
            entries.Add(($"{format}/{recordId}/", null));
            entries.Add(($"{format}/{recordId}/metadata.xml", Encoding.UTF8.GetBytes(MetadataXml(recordId, format, meetingId, published))));
            entries.Add(($"{format}/{recordId}/media.bin", Bytes(mediaBytes)));
            entries.Add(($"{format}/{recordId}/thumbnails/thumb-1.png", Bytes(100)));
        }

        Write(path, entries);
    }

    /// <summary>Writes a tar of the given entries; a null body makes a directory.</summary>
    public static void Write(string path, IEnumerable<(string Name, byte[]? Body)> entries, Action<TarWriter>? extra = null)
    {
        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        foreach (var (name, body) in entries)
        {
            if (body is null)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name));
            }
            else
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(body) });
            }
        }

        extra?.Invoke(tar);
    }

    public static byte[] Bytes(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    /// <summary>Every file under <paramref name="root"/>, relative, sorted.</summary>
    public static List<string> FilesUnder(string root) =>
        Directory.Exists(root)
            ? [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)]
            : [];
}
