using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;

namespace Scalelite.Core.Recordings;

/// <summary>What a reindex found and did.</summary>
public sealed class ReindexReport
{
    public int RecordingsFound { get; set; }

    public int RecordingsAdded { get; set; }

    public int FormatsAdded { get; set; }

    public int Unchanged { get; set; }

    /// <summary>Recordings deleted in the index: their files do not bring them back.</summary>
    public int Skipped { get; set; }

    /// <summary>Each <c>metadata.xml</c> (or directory) that could not be read, with why.</summary>
    public List<string> Unreadable { get; } = [];

    public List<string> Notes { get; } = [];

    public void Write(TextWriter output, bool dryRun)
    {
        foreach (var note in Notes)
        {
            output.WriteLine(note);
        }

        output.WriteLine($"{RecordingsFound} recording(s) found: {RecordingsAdded} {(dryRun ? "to add" : "added")}, {FormatsAdded} format(s) {(dryRun ? "to add" : "added")}, " +
            $"{Unchanged} unchanged, {Skipped} deleted in the index (left alone), {Unreadable.Count} unreadable");
        foreach (var line in Unreadable)
        {
            output.WriteLine("  unreadable: " + line);
        }
    }
}

/// <summary>
/// Builds the recordings index from a recording tree that is already on disk (a BBB server's, or any Scalelite's
/// <c>published/</c> or <c>unpublished/</c>), by reading each <c>&lt;format&gt;/&lt;recordID&gt;/metadata.xml</c>.
/// </summary>
/// <remarks>
/// It only fills gaps: a recording the index lacks is added with every format found, a format a known recording lacks
/// is added to it, and nothing the index already holds is changed (the LMS may have changed it through the API since
/// the files were written). So it is idempotent, and safe beside a running importer. The tree a recording is in
/// decides whether it is published when the tree is one of ours (<c>RECORDING_PUBLISH_DIR</c>,
/// <c>RECORDING_UNPUBLISH_DIR</c>), because that is where playback looks; for any other tree metadata.xml decides,
/// and the report says the files are not where playback looks. Dot-named directories (moves in flight) and the
/// captions folder are not recordings.
/// </remarks>
public sealed class RecordingReindex(
    IDbContextFactory<ScaleliteDbContext> databases, RecordingFiles files, TimeProvider time, Microsoft.Extensions.Options.IOptions<Configuration.ScaleliteOptions>? options = null)
{
    private readonly bool _multitenancy = options?.Value.MultitenancyEnabled ?? false;

    private const int BatchSize = 200;

    public async Task<ReindexReport> RunAsync(string directory, bool dryRun, CancellationToken ct)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"{directory} is not a directory.");
        }

        var report = new ReindexReport();
        bool? tree = root == files.PublishDir ? true : root == files.UnpublishDir ? false : null;
        if (tree is null)
        {
            report.Notes.Add($"{root} is neither RECORDING_PUBLISH_DIR ({files.PublishDir}) nor RECORDING_UNPUBLISH_DIR ({files.UnpublishDir}): " +
                "metadata.xml says whether each recording is published, and playback will not find these files until they are moved there.");
        }

        var found = Read(root, report)
            .GroupBy(p => p.RecordId, StringComparer.Ordinal)
            .Select(g => Merge([.. g.OrderBy(p => p.Format, StringComparer.Ordinal)], tree, _multitenancy))
            .ToList();
        report.RecordingsFound = found.Count;

        foreach (var batch in found.Chunk(BatchSize))
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            var ids = batch.Select(r => r.RecordId).ToArray();
            var existing = await db.Recordings.Where(r => ids.Contains(r.RecordId)).Include(r => r.Formats)
                .ToDictionaryAsync(r => r.RecordId, StringComparer.Ordinal, ct);
            var now = time.GetUtcNow();
            foreach (var recording in batch)
            {
                if (!existing.TryGetValue(recording.RecordId, out var held))
                {
                    recording.CreatedAt = recording.UpdatedAt = now;
                    db.Recordings.Add(recording);
                    report.RecordingsAdded++;
                    report.FormatsAdded += recording.Formats.Count;
                    continue;
                }

                if (held.State == RecordingState.Deleted)
                {
                    report.Skipped++;
                    continue;
                }

                var missing = recording.Formats.Where(f => !held.Formats.Exists(h => h.Format == f.Format)).ToList();
                if (missing.Count == 0)
                {
                    report.Unchanged++;
                    continue;
                }

                held.Formats.AddRange(missing);
                held.UpdatedAt = now;
                report.FormatsAdded += missing.Count;
            }

            if (!dryRun)
            {
                await db.SaveChangesAsync(ct);
            }
        }

        return report;
    }

    private static IEnumerable<ParsedRecording> Read(string root, ReindexReport report)
    {
        foreach (var formatDirectory in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var format = Path.GetFileName(formatDirectory);
            if (format.StartsWith('.') || format == RecordingFiles.CaptionsFolder)
            {
                continue;
            }

            if (!RecordingFiles.IsSafeName(format))
            {
                report.Unreadable.Add($"{formatDirectory}: not a format name");
                continue;
            }

            foreach (var recordDirectory in Directory.EnumerateDirectories(formatDirectory).Order(StringComparer.Ordinal))
            {
                var recordId = Path.GetFileName(recordDirectory);
                if (recordId.StartsWith('.'))
                {
                    continue;
                }

                var file = Path.Combine(recordDirectory, "metadata.xml");
                ParsedRecording? parsed = null;
                string? problem = null;
                try
                {
                    if (!RecordingFiles.IsSafeName(recordId))
                    {
                        problem = "not a recordID";
                    }
                    else if (!File.Exists(file))
                    {
                        problem = "no metadata.xml";
                    }
                    else
                    {
                        parsed = RecordingMetadataParser.Parse(file);
                        if (parsed.Format != format || parsed.RecordId != recordId)
                        {
                            problem = $"metadata.xml describes {parsed.Format}/{parsed.RecordId}";
                            parsed = null;
                        }
                    }
                }
                catch (Exception e) when (e is RecordingFormatException or IOException or UnauthorizedAccessException)
                {
                    problem = e.Message;
                }

                if (parsed is null)
                {
                    report.Unreadable.Add($"{recordDirectory}: {problem}");
                    continue;
                }

                yield return parsed;
            }
        }
    }

    /// <summary>One recording from its formats' metadata, as the importer merges per-format archives.</summary>
    private static Recording Merge(IReadOnlyList<ParsedRecording> formats, bool? published, bool multitenancy)
    {
        var first = formats[0];
        var recording = first.ToRecording(importUnpublished: false, multitenancy);
        if (published is { } inTree)
        {
            recording.Published = inTree;
            if (recording.State is RecordingState.Published or RecordingState.Unpublished)
            {
                recording.State = RecordingState.Of(inTree);
            }
        }

        foreach (var other in formats.Skip(1))
        {
            recording.StartTime = other.StartTime < recording.StartTime ? other.StartTime : recording.StartTime;
            recording.EndTime = other.EndTime > recording.EndTime ? other.EndTime : recording.EndTime;
            recording.Participants = Math.Max(recording.Participants, other.Participants);
            recording.RawSize = Math.Max(recording.RawSize, other.RawSize);
            var keys = recording.Metadata.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
            recording.Metadata.AddRange(other.Metadata.Where(m => keys.Add(m.Key)).Select(m => new RecordingMetadata { Key = m.Key, Value = m.Value }));
        }

        recording.Formats = [.. formats.Select(f => f.ToPlaybackFormat())];
        return recording;
    }
}
