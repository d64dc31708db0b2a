namespace Scalelite.Core.Recordings;

/// <summary>
/// Where a recording's files live on the shared volume: <c>{published|unpublished}/&lt;format&gt;/&lt;recordID&gt;</c>,
/// exactly as on a BBB server, so a web server can serve the published tree as it is.
/// </summary>
public sealed class RecordingLayout(string publishDir, string unpublishDir)
{
    public string PublishDir { get; } = Path.GetFullPath(publishDir);

    public string UnpublishDir { get; } = Path.GetFullPath(unpublishDir);

    public string Root(bool published) => published ? PublishDir : UnpublishDir;

    /// <summary>The directory of one format of one recording.</summary>
    public string FormatDirectory(bool published, string format, string recordId)
    {
        if (!IsSafeName(format) || !IsSafeName(recordId))
        {
            throw new ArgumentException($"'{format}/{recordId}' is not a valid recording path.");
        }

        return Path.Combine(Root(published), format, recordId);
    }

    /// <summary>
    /// A path segment we accept as a format or recordID: no separators, no dot-only names, and no leading dot
    /// (dot-names are kept for the importer's own in-flight directories, which readers must ignore).
    /// </summary>
    public static bool IsSafeName(string name) =>
        name.Length is > 0 and <= 255
        && name[0] != '.'
        && name.AsSpan().IndexOfAny(['/', '\\', '\0']) < 0;

    /// <summary>Archive names the importer considers: <c>*.tar</c> and <c>*.tar.xz</c>, never dot-files (still being written).</summary>
    public static bool IsArchiveName(string fileName) =>
        fileName.Length > 0 && fileName[0] != '.'
        && (fileName.EndsWith(".tar", StringComparison.Ordinal) || fileName.EndsWith(".tar.xz", StringComparison.Ordinal));
}
