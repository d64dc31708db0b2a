namespace Scalelite.RecordingSync.Importing;

/// <summary>Decides whether an archive in the spool is complete enough to import.</summary>
/// <remarks>
/// The post-publish script writes under a dot-name and renames, so a <c>*.tar</c> is normally complete when it
/// appears. This guards against writers that do not (a plain <c>scp</c>, a manual copy): an archive is ready when
/// its last write is older than the settle time, or when two looks at least <see cref="MinimumGap"/> apart (and no
/// longer than the settle time) saw the same size and modification time.
/// </remarks>
public sealed class ArchiveReadiness(TimeProvider time, TimeSpan settle)
{
    private readonly Dictionary<string, (long Size, DateTimeOffset Modified, DateTimeOffset SeenAt)> _looks = new(StringComparer.Ordinal);

    /// <summary>Spool entries that are archives: <c>*.tar</c> and <c>*.tar.xz</c>, never dot-files (still being written).</summary>
    public static bool IsArchiveName(string fileName) =>
        fileName.Length > 0 && fileName[0] != '.'
        && (fileName.EndsWith(".tar", StringComparison.Ordinal) || fileName.EndsWith(".tar.xz", StringComparison.Ordinal));

    public TimeSpan MinimumGap { get; } = settle < TimeSpan.FromSeconds(1) ? settle : TimeSpan.FromSeconds(1);

    public bool IsReady(string path, long size, DateTimeOffset modified)
    {
        var now = time.GetUtcNow();
        if (now - modified >= settle)
        {
            _looks.Remove(path);
            return true;
        }

        if (!_looks.TryGetValue(path, out var look) || look.Size != size || look.Modified != modified)
        {
            _looks[path] = (size, modified, now);
            return false;
        }

        if (now - look.SeenAt >= MinimumGap)
        {
            _looks.Remove(path);
            return true;
        }

        return false;
    }

    /// <summary>Forgets files that are gone, so the table does not grow.</summary>
    public void Retain(IReadOnlySet<string> present)
    {
        foreach (var path in _looks.Keys.Where(p => !present.Contains(p)).ToList())
        {
            _looks.Remove(path);
        }
    }
}
