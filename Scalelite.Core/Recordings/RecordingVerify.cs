using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Recordings;

/// <summary>What <see cref="RecordingVerify"/> found.</summary>
public sealed class VerifyReport
{
    public int RecordingsChecked { get; set; }

    public int DirectoriesChecked { get; set; }

    /// <summary>Recordings of the index whose files are not where playback looks, each with the formats missing.</summary>
    public List<string> MissingFiles { get; } = [];

    /// <summary>Recording directories on the volume that no recording of the index knows.</summary>
    public List<string> UnknownDirectories { get; } = [];

    public bool Clean => MissingFiles.Count == 0 && UnknownDirectories.Count == 0;

    public void Write(TextWriter output)
    {
        foreach (var line in MissingFiles)
        {
            output.WriteLine("missing files: " + line);
        }

        foreach (var line in UnknownDirectories)
        {
            output.WriteLine("unknown directory: " + line);
        }

        output.WriteLine($"{RecordingsChecked} recording(s) and {DirectoriesChecked} directories checked: " +
            $"{MissingFiles.Count} with missing files, {UnknownDirectories.Count} directories no recording knows");
    }
}

/// <summary>
/// Compares the recordings index with the recording volume, after a restore or whenever one is in doubt: recordings
/// whose files are missing, and recording directories that no recording knows. It only reads.
/// </summary>
/// <remarks>
/// Both sides use <see cref="RecordingFiles"/>, the one place that says where a recording's files live. A recording
/// deleted in the index has no files, so its directories count as unknown. Captions belong to a recording by its
/// recordID whatever the format. The index is read a page at a time in id order; the volume is walked once. Run
/// while imports are under way, it may name an archive imported between the two reads: run it again.
/// </remarks>
public sealed class RecordingVerify(IDbContextFactory<ScaleliteDbContext> databases, RecordingFiles files)
{
    private const int PageSize = 500;

    public async Task<VerifyReport> RunAsync(CancellationToken ct)
    {
        var report = new VerifyReport();
        var known = new HashSet<(string Format, string RecordId)>();
        var recordIds = new HashSet<string>(StringComparer.Ordinal);
        long after = 0;
        while (true)
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            var page = await db.Recordings.AsNoTracking().Include(r => r.Formats)
                .Where(r => r.Id > after && r.State != RecordingState.Deleted)
                .OrderBy(r => r.Id).Take(PageSize).ToListAsync(ct);
            if (page.Count == 0)
            {
                break;
            }

            after = page[^1].Id;
            foreach (var recording in page)
            {
                report.RecordingsChecked++;
                recordIds.Add(recording.RecordId);
                known.UnionWith(recording.Formats.Select(f => (f.Format, recording.RecordId)));
                if (files.MissingFormats(recording) is { Count: > 0 } missing)
                {
                    report.MissingFiles.Add($"recording {recording.RecordId} ({(recording.Published ? "published" : "unpublished")}): {string.Join(", ", missing)}");
                }
            }
        }

        foreach (var (published, format, recordId) in files.EnumerateDirectories())
        {
            report.DirectoriesChecked++;
            var isKnown = format == RecordingFiles.CaptionsFolder ? recordIds.Contains(recordId) : known.Contains((format, recordId));
            if (!isKnown)
            {
                report.UnknownDirectories.Add(Path.Combine(files.Root(published), format, recordId));
            }
        }

        return report;
    }
}
