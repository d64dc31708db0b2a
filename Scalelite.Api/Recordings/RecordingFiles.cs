using Microsoft.Extensions.Options;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Recordings;

/// <summary>A recording's files on the shared volume: <c>{published|unpublished}/{format}/{recordID}/...</c>.</summary>
/// <remarks>
/// Moves are renames when both trees are on one file system. Across devices (which NFS mounts may be) a rename
/// fails; the tree is then copied under a temporary name, renamed into place, and only then is the source removed,
/// so a crash leaves either the old place complete or both, never a half tree under the final name. Running a move
/// again after a crash finishes it.
/// </remarks>
public sealed class RecordingFiles(IOptions<RecordingOptions> options)
{
    public string PublishDir { get; } = Path.GetFullPath(options.Value.PublishDir);

    public string UnpublishDir { get; } = Path.GetFullPath(options.Value.UnpublishDir);

    /// <summary>recordIDs and format names become path segments: only plain names pass.</summary>
    public static bool IsSafeSegment(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 255 && value is not ("." or "..")
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public string PathOf(string format, string recordId, bool published)
    {
        Check(format, recordId);
        return Path.Combine(published ? PublishDir : UnpublishDir, format, recordId);
    }

    public string CaptionsDir(string recordId)
    {
        Check("captions", recordId);
        return Path.Combine(PublishDir, "captions", recordId);
    }

    /// <summary>Writes a caption file under a temporary name and renames it, so a reader never sees half of it.</summary>
    public async Task SaveCaptionAsync(string recordId, string name, Stream content, CancellationToken ct)
    {
        var directory = CaptionsDir(recordId);
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        await using (var target = File.Create(temporary))
        {
            await content.CopyToAsync(target, ct);
        }

        File.Move(temporary, Path.Combine(directory, name), overwrite: true);
    }

    public void Move(string format, string recordId, bool toPublished)
    {
        var source = PathOf(format, recordId, !toPublished);
        var target = PathOf(format, recordId, toPublished);
        if (!Directory.Exists(source))
        {
            return;
        }

        if (Directory.Exists(target))
        {
            // The source still exists, so an earlier move was interrupted after its copy: the source is the whole tree.
            Directory.Delete(target, recursive: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            Directory.Move(source, target);
        }
        catch (IOException) when (Directory.Exists(source) && !Directory.Exists(target))
        {
            var temporary = target + ".moving-" + Guid.NewGuid().ToString("N");
            CopyTree(source, temporary);
            Directory.Move(temporary, target);
            Directory.Delete(source, recursive: true);
        }
    }

    public void Delete(string format, string recordId)
    {
        foreach (var published in (bool[])[true, false])
        {
            var path = PathOf(format, recordId, published);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }

    public void DeleteCaptions(string recordId)
    {
        var path = CaptionsDir(recordId);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static void Check(string format, string recordId)
    {
        if (!IsSafeSegment(format) || !IsSafeSegment(recordId))
        {
            throw new ArgumentException($"Not a plain file name: {format}/{recordId}");
        }
    }

    private static void CopyTree(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.EnumerateDirectories(source))
        {
            CopyTree(dir, Path.Combine(target, Path.GetFileName(dir)));
        }
    }
}
