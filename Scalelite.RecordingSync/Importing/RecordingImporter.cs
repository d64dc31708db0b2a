using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Meetings;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.RecordingSync.Importing;

/// <summary>What became of one archive.</summary>
public enum ImportOutcome
{
    /// <summary>Indexed, files in place, archive removed.</summary>
    Imported,

    /// <summary>Malformed: moved to <c>spool/failed/</c> with a reason file.</summary>
    Rejected,

    /// <summary>The archive was no longer there (another pass took it).</summary>
    Gone,
}

/// <summary>Imports one recording archive from the spool.</summary>
/// <remarks>
/// The order of the steps is what makes a crash at any point harmless:
/// <list type="number">
/// <item>Extract into a private work directory <c>work/.&lt;archive&gt;.&lt;guid&gt;</c>, validating every entry, and parse
/// every <c>&lt;format&gt;/&lt;recordID&gt;/metadata.xml</c>. A malformed archive stops here and is set aside; nothing outside
/// the work directory has been touched.</item>
/// <item>Open a transaction and write the rows (upsert by recordID: the archive's formats replace the same formats,
/// others are kept, so per-format archives add up). Nothing is visible to readers yet.</item>
/// <item>Put each format in place with <see cref="RecordingFiles.Place"/>: renamed (or, across devices, copied, fsynced
/// and renamed) onto <c>&lt;format&gt;/&lt;recordID&gt;</c> in the tree the recording's state names, an earlier copy set
/// aside first and any copy in the other tree removed. Readers therefore see the old directory, briefly none, or
/// the new one, never a partial one; what a crash leaves is swept at start-up.</item>
/// <item>Commit. Only now does the index point at the files, which are already complete.</item>
/// <item>Delete the archive.</item>
/// </list>
/// A crash before the commit rolls the transaction back and leaves the archive, so it is imported again from
/// scratch (directories already placed are complete and are replaced). A crash between the commit and the
/// deletion re-imports an identical recording: the upsert and the import log (keyed by archive and arrival time)
/// make that a no-op for readers. Files renamed within one device are not fsynced: the guarantees hold for process
/// crashes; after a power loss the retry from the kept archive repairs what the page cache lost.
/// </remarks>
public sealed partial class RecordingImporter(
    IDbContextFactory<ScaleliteDbContext> databases,
    IOptions<RecordingOptions> options,
    RecordingFiles files,
    IImportProbe probe,
    RecordingSyncMetrics metrics,
    MeetingEvents events,
    TimeProvider time,
    ILogger<RecordingImporter> logger,
    IOptions<Scalelite.Core.Configuration.ScaleliteOptions>? balancer = null)
{
    public const string FailedFolder = "failed";
    // Two archives of one recording (per-format archives) must not publish at once. A fixed set of striped gates
    // bounds the memory, unlike a gate per recordID kept forever; unrelated recordings rarely share a stripe.
    private readonly SemaphoreSlim[] _recordGates = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public Task<ImportOutcome> ImportAsync(string archivePath, CancellationToken ct) => ImportAsync(ArchiveClaim.Unclaimed(archivePath), ct);

    /// <summary>Imports an archive this instance holds (<see cref="ArchiveClaim"/>); the claim is the archive's name and place.</summary>
    public async Task<ImportOutcome> ImportAsync(ArchiveClaim claim, CancellationToken ct)
    {
        var name = claim.Name;
        var archivePath = claim.Path;
        var info = new FileInfo(archivePath);
        if (!info.Exists)
        {
            return ImportOutcome.Gone;
        }

        var arrivedAt = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        var work = files.NewWorkDirectory(name);
        try
        {
            List<ParsedRecording> parsed;
            try
            {
                var directories = await ArchiveExtractor.ExtractAsync(archivePath, work, ct);
                probe.At(ImportStep.Extracted, name);
                parsed = ParseAll(work, directories);
            }
            catch (ArchiveRejectedException e)
            {
                await SetAsideAsync(claim, arrivedAt, e.Message, ct);
                return ImportOutcome.Rejected;
            }

            var recordId = parsed[0].RecordId;
            probe.At(ImportStep.Parsed, recordId);
            var gate = _recordGates[(int)((uint)StringComparer.Ordinal.GetHashCode(recordId) % (uint)_recordGates.Length)];
            await gate.WaitAsync(ct);
            try
            {
                await PublishAsync(name, arrivedAt, work, parsed, ct);
            }
            finally
            {
                gate.Release();
            }

            claim.Use(File.Delete);
            probe.At(ImportStep.ArchiveRemoved, recordId);
            var delay = time.GetUtcNow() - arrivedAt;
            metrics.Imported(delay);
            metrics.Listed(time.GetUtcNow(), time.GetUtcNow() - parsed.Max(p => p.EndTime));
            var first = parsed[0];
            var (serverId, serverHost) = await OriginAsync(first.InternalMeetingId, ct);
            events.RecordingImported(
                new MeetingIdentity(first.ToRecording(options.Value.ImportUnpublished).TenantId, first.MeetingId, first.InternalMeetingId, serverId, serverHost),
                recordId, [.. parsed.Select(p => p.Format)], name, delay, parsed.Max(p => p.EndTime));
            return ImportOutcome.Imported;
        }
        finally
        {
            RecordingFiles.DeleteLeftover(work);
        }
    }

    /// <summary>
    /// The server that ran the recorded meeting, for the import's log line and trace: as the meeting history has it,
    /// else as the poller saw it recording. Unknown (nulls) when neither knows, or PostgreSQL does not answer now.
    /// </summary>
    private async Task<(string? ServerId, string? ServerHost)> OriginAsync(string internalMeetingId, CancellationToken ct)
    {
        try
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            var history = await db.MeetingHistory.AsNoTracking().Where(h => h.InternalMeetingId == internalMeetingId)
                .Select(h => new { h.ServerId, h.ServerHost }).FirstOrDefaultAsync(ct);
            if (history?.ServerId is not null)
            {
                return (history.ServerId, history.ServerHost);
            }

            var seen = await db.RecordedMeetings.AsNoTracking().Where(r => r.InternalMeetingId == internalMeetingId)
                .Select(r => new { r.ServerId, Url = db.Servers.Where(s => s.Id == r.ServerId).Select(s => s.Url).FirstOrDefault() })
                .FirstOrDefaultAsync(ct);
            return (seen?.ServerId, seen?.Url is { } url ? MeetingIdentity.HostOf(url) : null);
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e))
        {
            return (null, null);
        }
    }

    private static List<ParsedRecording> ParseAll(string work, IReadOnlyList<(string Format, string RecordId)> directories)
    {
        var parsed = new List<ParsedRecording>();
        foreach (var (format, recordId) in directories)
        {
            var file = Path.Combine(work, format, recordId, "metadata.xml");
            if (!File.Exists(file))
            {
                throw new ArchiveRejectedException($"{format}/{recordId} has no metadata.xml");
            }

            ParsedRecording recording;
            try
            {
                recording = RecordingMetadataParser.Parse(file);
            }
            catch (RecordingFormatException e)
            {
                throw new ArchiveRejectedException($"{format}/{recordId}/{e.Message}", e);
            }

            if (recording.Format != format || recording.RecordId != recordId)
            {
                throw new ArchiveRejectedException(
                    $"{format}/{recordId}/metadata.xml describes {recording.Format}/{recording.RecordId}");
            }

            parsed.Add(recording);
        }

        var ids = parsed.Select(p => p.RecordId).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count > 1)
        {
            throw new ArchiveRejectedException($"the archive mixes recordings {string.Join(", ", ids)}");
        }

        return parsed;
    }

    private async Task PublishAsync(string archiveName, DateTimeOffset arrivedAt, string work, List<ParsedRecording> parsed, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var first = parsed[0];
        // A recording already in the index keeps its tenant (it may have been assigned one since).
        var incoming = first.ToRecording(options.Value.ImportUnpublished, balancer?.Value.MultitenancyEnabled ?? false);

        await using var db = await databases.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var recording = await db.Set<Recording>()
            .Include(r => r.Metadata)
            .Include(r => r.Formats).ThenInclude(f => f.Thumbnails)
            .AsSplitQuery()
            .SingleOrDefaultAsync(r => r.RecordId == first.RecordId, ct);
        if (recording is null)
        {
            // As Scalelite: a new recording is protected when protection is on. A later archive of it keeps what
            // the LMS may have set since with updateRecordings&protect=.
            incoming.Protected = options.Value.ProtectedRecordingsEnabled;
            incoming.CreatedAt = now;
            incoming.UpdatedAt = now;
            recording = incoming;
            db.Add(recording);
        }
        else if (recording.State == RecordingState.Deleted)
        {
            // A format that arrives after the LMS deleted the recording must not bring it back.
            db.Add(new RecordingImport
            {
                Archive = archiveName,
                RecordId = recording.RecordId,
                Outcome = RecordingImport.Ignored,
                Reason = "The recording was deleted before this archive arrived.",
                ArrivedAt = arrivedAt,
                FinishedAt = now,
            });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return;
        }
        else
        {
            // Another archive of a recording we hold (BBB publishes formats one by one, maybe hours apart): its
            // formats join the recording under the state it has now, so an unpublish by the LMS holds, and
            // metadata the LMS changed with updateRecordings is kept; only keys we lack are added.
            // Replaced rows are deleted in a save of their own, so the inserts below never meet the unique keys they free.
            db.RemoveRange(recording.Formats.Where(f => parsed.Any(p => p.Format == f.Format)));
            await db.SaveChangesAsync(ct);
            recording.Name = string.IsNullOrEmpty(recording.Name) ? incoming.Name : recording.Name;
            recording.StartTime = incoming.StartTime < recording.StartTime ? incoming.StartTime : recording.StartTime;
            recording.EndTime = incoming.EndTime > recording.EndTime ? incoming.EndTime : recording.EndTime;
            recording.Participants = Math.Max(recording.Participants, incoming.Participants);
            recording.RawSize = Math.Max(recording.RawSize, incoming.RawSize);
            recording.UpdatedAt = now;
            var keys = recording.Metadata.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
            recording.Metadata.AddRange(incoming.Metadata.Where(m => !keys.Contains(m.Key)));
        }

        recording.Formats.AddRange(parsed.Select(p => p.ToPlaybackFormat()));
        await StageCallbacksAsync(db, recording, now, ct);
        var alreadyLogged = await db.Set<RecordingImport>()
            .AnyAsync(i => i.Archive == archiveName && i.ArrivedAt == arrivedAt && i.Outcome == RecordingImport.Imported, ct);
        if (!alreadyLogged)
        {
            db.Add(new RecordingImport
            {
                Archive = archiveName,
                RecordId = recording.RecordId,
                Outcome = RecordingImport.Imported,
                ArrivedAt = arrivedAt,
                FinishedAt = now,
            });
        }

        await db.SaveChangesAsync(ct);
        probe.At(ImportStep.Staged, recording.RecordId);

        foreach (var p in parsed)
        {
            files.Place(Path.Combine(work, p.Format, p.RecordId), recording.Published, p.Format, p.RecordId);
            probe.At(ImportStep.FormatPlaced, recording.RecordId);
        }

        await tx.CommitAsync(ct);
        probe.At(ImportStep.Committed, recording.RecordId);
    }

    /// <summary>
    /// Turns the recording-ready callbacks the API captured at create into deliveries for this recording, once:
    /// a delivery row per (URL, recordID), inserted in the import's transaction.
    /// </summary>
    private static async Task StageCallbacksAsync(ScaleliteDbContext db, Recording recording, DateTimeOffset now, CancellationToken ct)
    {
        var captured = await db.Set<Callback>()
            .Where(c => c.Status == CallbackStatus.Captured && c.Kind == CallbackStatus.RecordingReady && c.TenantId == recording.TenantId
                && (c.InternalMeetingId == recording.InternalMeetingId || (c.InternalMeetingId == null && c.MeetingId == recording.MeetingId)))
            .ToListAsync(ct);
        foreach (var url in captured.Select(c => c.Url).Distinct(StringComparer.Ordinal))
        {
            var exists = await db.Set<Callback>().AnyAsync(c => c.RecordId == recording.RecordId && c.Url == url && c.Kind == CallbackStatus.RecordingReady, ct);
            if (!exists)
            {
                db.Add(new Callback
                {
                    TenantId = recording.TenantId,
                    MeetingId = recording.MeetingId,
                    InternalMeetingId = recording.InternalMeetingId,
                    Kind = CallbackStatus.RecordingReady,
                    Url = url,
                    RecordId = recording.RecordId,
                    Status = CallbackStatus.Pending,
                    NextAttemptAt = now,
                    CreatedAt = now,
                });
            }
        }
    }

    /// <summary>Moves a malformed archive to <c>spool/failed/</c> beside a reason file, and logs and counts it.</summary>
    private async Task SetAsideAsync(ArchiveClaim claim, DateTimeOffset arrivedAt, string reason, CancellationToken ct)
    {
        var name = claim.Name;
        var failed = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(claim.Path))!, FailedFolder);
        Directory.CreateDirectory(failed);
        var destination = Path.Combine(failed, name);
        if (File.Exists(destination))
        {
            destination = Path.Combine(failed, $"{time.GetUtcNow():yyyyMMddTHHmmssfff}-{name}");
        }

        // The reason is written first: a crash in between leaves the archive in the spool, to be rejected again.
        await File.WriteAllTextAsync(destination + ".reason.txt", reason + Environment.NewLine, ct);
        claim.Use(path => File.Move(path, destination));
        metrics.Failed();
        Log.Rejected(logger, name, reason);
        try
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            db.Add(new RecordingImport
            {
                Archive = name,
                Outcome = RecordingImport.Failed,
                Reason = reason.Length > 2000 ? reason[..2000] : reason,
                ArrivedAt = arrivedAt,
                FinishedAt = time.GetUtcNow(),
            });
            await db.SaveChangesAsync(ct);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or Npgsql.NpgsqlException)
        {
            // The archive and its reason file are already safe in failed/; the log row is a convenience.
            Log.LogWriteFailed(logger, name, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Warning, "Set aside {Archive} in failed/: {Reason}")]
        public static partial void Rejected(ILogger logger, string archive, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Could not log the rejection of {Archive}: {Error}")]
        public static partial void LogWriteFailed(ILogger logger, string archive, string error);
    }
}
