using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace Scalelite.Core.Recordings;

/// <summary>
/// A recording's files on the shared volume, in one place: where they live, which names may become part of a path,
/// and how a tree is moved, placed and removed so that no reader ever sees half of one. The importer and the
/// recording API both go through it.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> One format of one recording is <c>{published|unpublished}/&lt;format&gt;/&lt;recordID&gt;</c>,
/// exactly as on a BBB server, so a web server can serve the published tree as it is; uploaded captions are
/// <c>published/captions/&lt;recordID&gt;</c>. On the web a file of a recording is
/// <c>/&lt;format&gt;/&lt;recordID&gt;/&lt;file&gt;</c> (<see cref="WebPath"/>).</para>
/// <para><b>Names.</b> <see cref="IsSafeName(string)"/> is the one test a format, a recordID or a file name passes before it
/// becomes part of a path, on disk or in an <c>X-Accel-Redirect</c>: 1 to 255 characters of <c>A-Z a-z 0-9 - _ .</c>,
/// the first not a dot. The allow-list shuts out separators (<c>/</c>, <c>\</c>), NUL, percent escapes and every
/// Unicode look-alike of <c>/</c> or <c>.</c> at once; the leading dot shuts out <c>.</c>, <c>..</c> and the dot-names
/// of the in-flight and set-aside trees below, which no reader may reach.</para>
/// <para><b>Moves.</b> <see cref="MoveDirectory"/> puts a tree at its target with one rename, which readers see as
/// all or nothing; a target already there is renamed aside first (<c>.&lt;leaf&gt;.replaced.&lt;guid&gt;</c>) and
/// deleted after. Across devices (NFS mounts, a work directory elsewhere) the rename fails; the tree is then copied
/// beside the target as <c>.&lt;leaf&gt;.incoming.&lt;guid&gt;</c> with every file fsynced, renamed onto the target,
/// and only then is the source deleted. The source itself is never renamed to a dot-name, so a crash at any point
/// leaves the source whole or the target whole, and running the move again finishes it. That matters for
/// publishRecordings, whose source is the only copy; the importer's source is a staged copy of an archive it keeps.</para>
/// <para><b>Removal and leftovers.</b> <see cref="RemoveDirectory"/> renames a tree aside before deleting it, so
/// nobody sees it half-deleted. What a crash can leave (dot-named work directories, <c>.incoming.</c> and
/// <c>.replaced.</c> trees) is only ever a copy, and <see cref="SweepLeftovers"/> deletes it when RecordingSync
/// starts. A publish copying across devices at that very moment loses its half copy and fails; the source is
/// untouched and the LMS's retry moves it.</para>
/// </remarks>
public sealed class RecordingFiles(IOptions<RecordingOptions> options)
{
    public const int MaxNameLength = 255;

    public const string CaptionsFolder = "captions";

    /// <summary>A file's path inside a recording: as long as a path may be on Linux.</summary>
    public const int MaxRelativePathLength = 4096;

    private const string Incoming = "incoming";
    private const string Replaced = "replaced";

    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    public string PublishDir { get; } = Path.GetFullPath(options.Value.PublishDir);

    public string UnpublishDir { get; } = Path.GetFullPath(options.Value.UnpublishDir);

    /// <summary>The importer's scratch space; its entries are dot-named and swept at start-up.</summary>
    public string WorkDir { get; } = Path.GetFullPath(options.Value.WorkDir);

    public string Root(bool published) => published ? PublishDir : UnpublishDir;

    /// <summary>Whether <paramref name="name"/> may be a format, a recordID or one segment of a file's path (see the remarks).</summary>
    public static bool IsSafeName([NotNullWhen(true)] string? name) => name is not null && IsSafeName(name.AsSpan());

    private static bool IsSafeName(ReadOnlySpan<char> name) =>
        name.Length is > 0 and <= MaxNameLength && name[0] != '.' && !name.ContainsAnyExcept(NameCharacters);

    /// <summary>
    /// Whether <paramref name="path"/> may name a file inside one format of a recording: segments joined by single
    /// <c>/</c>, each a safe name (so no <c>..</c>, no empty segment, no leading or trailing slash).
    /// </summary>
    public static bool IsSafeRelativePath([NotNullWhen(true)] string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxRelativePathLength)
        {
            return false;
        }

        foreach (var segment in path.AsSpan().Split('/'))
        {
            if (!IsSafeName(path.AsSpan()[segment]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The directory of one format of one recording.</summary>
    /// <exception cref="ArgumentException">The format or the recordID is not a safe name.</exception>
    public string FormatDirectory(bool published, string format, string recordId)
    {
        RequireSafe(format);
        RequireSafe(recordId);
        return Path.Combine(Root(published), format, recordId);
    }

    /// <summary>Where putRecordingTextTrack keeps a recording's caption files.</summary>
    public string CaptionsDirectory(string recordId)
    {
        RequireSafe(recordId);
        return Path.Combine(PublishDir, CaptionsFolder, recordId);
    }

    /// <summary>
    /// The path on the web of one format of a recording (<c>/&lt;format&gt;/&lt;recordID&gt;</c>, a protected recording's
    /// cookie path), or of a file in it. The web server maps it onto the published tree.
    /// </summary>
    public static string WebPath(string format, string recordId, string? file = null)
    {
        RequireSafe(format);
        RequireSafe(recordId);
        if (file is null)
        {
            return $"/{format}/{recordId}";
        }

        return IsSafeRelativePath(file)
            ? $"/{format}/{recordId}/{file}"
            : throw new ArgumentException($"'{file}' is not a file of a recording.", nameof(file));
    }

    /// <summary>
    /// The formats of <paramref name="recording"/> whose directory is not where its published flag says it lives, each
    /// described for an operator (<c>presentation</c>, or <c>presentation (in the unpublished tree instead)</c>). Empty for
    /// a deleted recording, which has no files.
    /// </summary>
    public List<string> MissingFormats(Persistence.Recordings.Recording recording)
    {
        var missing = new List<string>();
        if (recording.State == RecordingState.Deleted)
        {
            return missing;
        }

        foreach (var format in recording.Formats)
        {
            if (!IsSafeName(format.Format) || !IsSafeName(recording.RecordId))
            {
                missing.Add($"{format.Format} (a name that cannot be a path)");
            }
            else if (!Directory.Exists(FormatDirectory(recording.Published, format.Format, recording.RecordId)))
            {
                missing.Add(Directory.Exists(FormatDirectory(!recording.Published, format.Format, recording.RecordId))
                    ? $"{format.Format} (in the {(recording.Published ? "unpublished" : "published")} tree instead)"
                    : format.Format);
            }
        }

        return missing;
    }

    /// <summary>
    /// Every recording directory in our two trees (<c>&lt;format&gt;/&lt;recordID&gt;</c>) and every captions directory
    /// (format <see cref="CaptionsFolder"/>), leaving out what no reader sees: dot-named moves in flight, and names that
    /// cannot be a format or a recordID.
    /// </summary>
    public IEnumerable<(bool Published, string Format, string RecordId)> EnumerateDirectories()
    {
        foreach (var published in new[] { true, false })
        {
            var root = Root(published);
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var formatDirectory in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
            {
                var format = Path.GetFileName(formatDirectory);
                if (!IsSafeName(format))
                {
                    continue;
                }

                foreach (var recordDirectory in Directory.EnumerateDirectories(formatDirectory).Order(StringComparer.Ordinal))
                {
                    var recordId = Path.GetFileName(recordDirectory);
                    if (IsSafeName(recordId))
                    {
                        yield return (published, format, recordId);
                    }
                }
            }
        }
    }

    /// <summary>A fresh, dot-named directory in the work directory for extracting one archive.</summary>
    public string NewWorkDirectory(string archiveName) =>
        Path.Combine(WorkDir, $".{Path.GetFileName(archiveName)}.{Guid.NewGuid():N}");

    /// <summary>Writes a caption file under a temporary dot-name and renames it, so a reader never sees half of it.</summary>
    public async Task SaveCaptionAsync(string recordId, string fileName, Stream content, CancellationToken ct)
    {
        RequireSafe(fileName);
        var directory = CaptionsDirectory(recordId);
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{fileName}.{Guid.NewGuid():N}.tmp");
        await using (var target = File.Create(temporary))
        {
            await content.CopyToAsync(target, ct);
        }

        File.Move(temporary, Path.Combine(directory, fileName), overwrite: true);
    }

    /// <summary>
    /// publishRecordings: moves one format of a recording into the published or the unpublished tree. Nothing left
    /// to move is not an error, so repeating the call finishes an interrupted one.
    /// </summary>
    public void Move(string format, string recordId, bool toPublished)
    {
        var source = FormatDirectory(!toPublished, format, recordId);
        if (Directory.Exists(source))
        {
            MoveDirectory(source, FormatDirectory(toPublished, format, recordId));
        }
    }

    /// <summary>The importer: makes <paramref name="staged"/> the format's directory in its tree and removes any copy in the other.</summary>
    public void Place(string staged, bool published, string format, string recordId)
    {
        MoveDirectory(staged, FormatDirectory(published, format, recordId));
        RemoveDirectory(FormatDirectory(!published, format, recordId));
    }

    /// <summary>deleteRecordings: removes one format of a recording from both trees.</summary>
    public void Delete(string format, string recordId)
    {
        RemoveDirectory(FormatDirectory(true, format, recordId));
        RemoveDirectory(FormatDirectory(false, format, recordId));
    }

    public void DeleteCaptions(string recordId) => RemoveDirectory(CaptionsDirectory(recordId));

    /// <summary>The one crash-safe move of a directory tree onto <paramref name="target"/>, replacing what is there (see the remarks).</summary>
    public static void MoveDirectory(string source, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var aside = SetAside(target);
        try
        {
            Directory.Move(source, target);
        }
        catch (IOException e) when (IsCrossDevice(e))
        {
            // Readers keep the old tree while the copy is made.
            PutBack(aside, target);
            CopyAcross(source, target);
            return;
        }
        catch
        {
            PutBack(aside, target);
            throw;
        }

        DeleteLeftover(aside);
    }

    /// <summary>Removes a tree all at once for readers: renamed aside, then deleted (what resists is swept at the next start).</summary>
    public static void RemoveDirectory(string path)
    {
        DeleteLeftover(SetAside(path));
    }

    /// <summary>Deletes a tree no reader sees (a work directory, a set-aside copy); what cannot be deleted now is swept at the next start.</summary>
    public static void DeleteLeftover(string? path)
    {
        try
        {
            if (path is not null && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Deletes what interrupted imports and moves left: dot-named work directories and in-flight or set-aside trees.</summary>
    /// <param name="olderThan">Only entries last written before this: when several importers share the volume, what is
    /// younger may be another importer's work in progress.</param>
    public void SweepLeftovers(DateTimeOffset? olderThan = null)
    {
        bool Abandoned(string dir) => olderThan is not { } limit || Directory.GetLastWriteTimeUtc(dir) < limit.UtcDateTime;
        if (Directory.Exists(WorkDir))
        {
            foreach (var dir in Directory.EnumerateDirectories(WorkDir, ".*").Where(Abandoned))
            {
                DeleteLeftover(dir);
            }
        }

        foreach (var root in new[] { PublishDir, UnpublishDir }.Where(Directory.Exists))
        {
            foreach (var format in Directory.EnumerateDirectories(root))
            {
                foreach (var dir in Directory.EnumerateDirectories(format, ".*"))
                {
                    var name = Path.GetFileName(dir);
                    if ((name.Contains($".{Incoming}.", StringComparison.Ordinal) || name.Contains($".{Replaced}.", StringComparison.Ordinal)) && Abandoned(dir))
                    {
                        DeleteLeftover(dir);
                    }
                }
            }
        }
    }

    private static void RequireSafe(string name, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(name))] string? parameter = null)
    {
        if (!IsSafeName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid recording path segment.", parameter);
        }
    }

    private static string Beside(string target, string kind) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{kind}.{Guid.NewGuid():N}");

    /// <returns>Where <paramref name="target"/> went, or null when there was none.</returns>
    private static string? SetAside(string target)
    {
        if (!Directory.Exists(target))
        {
            return null;
        }

        var aside = Beside(target, Replaced);
        Directory.Move(target, aside);
        return aside;
    }

    private static void PutBack(string? aside, string target)
    {
        if (aside is not null && !Directory.Exists(target))
        {
            Directory.Move(aside, target);
        }
    }

    private static void CopyAcross(string source, string target)
    {
        var incoming = Beside(target, Incoming);
        try
        {
            CopyDurably(source, incoming);
        }
        catch
        {
            DeleteLeftover(incoming);
            throw;
        }

        var aside = SetAside(target);
        Directory.Move(incoming, target);
        DeleteLeftover(aside);
        Directory.Delete(source, recursive: true);
    }

    /// <summary>Copies a tree with every file flushed to disk, so that the rename that follows publishes complete files.</summary>
    private static void CopyDurably(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            using var source = File.OpenRead(file);
            using var destination = new FileStream(Path.Combine(to, Path.GetFileName(file)), FileMode.CreateNew);
            source.CopyTo(destination);
            destination.Flush(flushToDisk: true);
        }

        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            CopyDurably(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    private static bool IsCrossDevice(IOException e) =>
        (e.HResult & 0xFFFF) == (OperatingSystem.IsWindows() ? 17 : 18); // ERROR_NOT_SAME_DEVICE, EXDEV
}
