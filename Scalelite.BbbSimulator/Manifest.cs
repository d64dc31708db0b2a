using System.Text.Json;

namespace Scalelite.BbbSimulator;

/// <summary>The JSON file that tells a launcher which servers run where.</summary>
internal static class Manifest
{
    /// <summary>
    /// Writes <c>{"simulators":[{"id","url","secret","control"}]}</c> to a temporary file beside
    /// <paramref name="path"/> and renames it into place, so a reader polling for the file never sees it half written.
    /// </summary>
    public static void Write(string path, IReadOnlyList<SimulatedServer> servers)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        using (var stream = File.Create(temp))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("simulators");
            foreach (var server in servers)
            {
                writer.WriteStartObject();
                writer.WriteString("id", server.Id);
                writer.WriteString("url", server.ApiUrl);
                writer.WriteString("secret", server.Secret);
                writer.WriteString("control", server.ControlUrl);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        File.Move(temp, full, overwrite: true);
    }
}
