using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Core.FromScalelite;

/// <summary>
/// Scalelite's recordings index (recordings, metadata, playback formats, thumbnails, the protected and
/// publish_updated flags, states) becomes ours, a batch per transaction; the files stay where they are.
/// </summary>
/// <remarks>
/// Each batch reads Scalelite's rows, our rows with the same recordIDs and their ledger entries, decides each row with
/// <see cref="SyncRule"/> and saves in one transaction, so an interrupted run leaves whole batches and the next run
/// carries on. The layout of the recording volume is the same as Scalelite's, so the files need no move; a recording
/// whose files are not where its published flag says is reported by the file check.
/// </remarks>
internal sealed class RecordingStep : IMigrationStep
{
    public const string Name = "recordings";
    public const string FilesName = "files";

    public async Task RunAsync(MigrationContext context, CancellationToken ct)
    {
        var report = context.Report.Add(new StepReport(Name));
        var total = await context.Source.CountRecordingsAsync(ct);
        report.Notes.Add($"{total} in Scalelite");
        var check = context.Files is null ? null : new FileCheck(context.Files, new StepReport(FilesName) { Counts = false });

        await foreach (var batch in context.Source.ReadRecordingsAsync(context.Options.BatchSize, ct))
        {
            await using var db = await context.Databases.CreateDbContextAsync(ct);
            await using var transaction = context.DryRun ? null : await db.Database.BeginTransactionAsync(ct);
            var keys = batch.Where(r => !string.IsNullOrEmpty(r.RecordId)).Select(r => r.RecordId!).Distinct(StringComparer.Ordinal).ToList();
            var ledger = await context.LedgerAsync(db, MigrationKinds.Recording, keys, ct);
            var ours = context.TargetReady
                ? await db.Recordings.Where(r => keys.Contains(r.RecordId))
                    .Include(r => r.Metadata).Include(r => r.Formats).ThenInclude(f => f.Thumbnails)
                    .AsSplitQuery().ToDictionaryAsync(r => r.RecordId, StringComparer.Ordinal, ct)
                : [];
            var added = new List<(Recording Recording, string Fingerprint)>();
            var updated = new List<(Recording Recording, string Fingerprint)>();

            foreach (var source in batch)
            {
                var scaleliteTenant = RecordingMapping.ScaleliteTenant(source);
                if (scaleliteTenant is not null && source.MeetingId is { } meetingId)
                {
                    context.MeetingTenants.TryAdd(meetingId, scaleliteTenant);
                }

                if (context.Tenants.Map(scaleliteTenant) is not { } tenantId)
                {
                    context.Wait(Name);
                    continue;
                }

                var (wanted, problem) = RecordingMapping.Map(source, tenantId, context.Now);
                if (wanted is null)
                {
                    report.Skip($"recording {source.RecordId ?? $"(row {source.Id})"}: {problem}");
                    continue;
                }

                var fingerprint = Fingerprint.Of(RecordingMapping.Project(wanted));
                var current = ours.GetValueOrDefault(wanted.RecordId);
                var decision = SyncRule.Decide(
                    ledger.GetValueOrDefault(wanted.RecordId)?.Fingerprint, fingerprint, current is null ? null : Fingerprint.Of(RecordingMapping.Project(current)));
                switch (decision)
                {
                    case SyncDecision.Add:
                        db.Recordings.Add(wanted);
                        added.Add((wanted, fingerprint));
                        current = wanted;
                        report.Count(decision, $"+ recording {wanted.RecordId} ({(wanted.State.Length == 0 ? "no state" : wanted.State)})");
                        break;
                    case SyncDecision.Update:
                        RecordingMapping.Apply(current!, wanted, context.Now);
                        updated.Add((current!, fingerprint));
                        report.Count(decision, $"~ recording {wanted.RecordId}: taken from Scalelite");
                        break;
                    case SyncDecision.Record:
                        updated.Add((current!, fingerprint));
                        report.Count(decision);
                        break;
                    case SyncDecision.Conflict:
                        report.Count(decision, $"! recording {wanted.RecordId}: changed here and in Scalelite since the last run; ours kept");
                        break;
                    default:
                        report.Count(decision);
                        break;
                }

                check?.Check(current ?? wanted);
            }

            if (context.DryRun)
            {
                continue;
            }

            // Added rows get their ids on save; the ledger names them, so it is written after.
            await db.SaveChangesAsync(ct);
            foreach (var (recording, fingerprint) in added.Concat(updated))
            {
                context.Remember(db, ledger, MigrationKinds.Recording, recording.RecordId, recording.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), fingerprint);
            }

            await db.SaveChangesAsync(ct);
            await transaction!.CommitAsync(ct);
        }

        if (check is not null)
        {
            check.Finish();
            context.Report.Add(check.Report);
        }
    }

    /// <summary>
    /// Looks for each recording's files where its published flag says they live, as Scalelite laid them out
    /// (<c>RECORDING_PUBLISH_DIR/&lt;format&gt;/&lt;recordID&gt;</c> or the unpublished tree), and reports the missing.
    /// </summary>
    private sealed class FileCheck(RecordingFiles files, StepReport report)
    {
        private int _checked;
        private int _missing;

        public StepReport Report { get; } = report;

        public void Check(Recording recording)
        {
            if (recording.State == RecordingState.Deleted || recording.Formats.Count == 0)
            {
                return;
            }

            _checked++;
            var missing = files.MissingFormats(recording);
            if (missing.Count > 0)
            {
                _missing++;
                Report.Details.Add($"recording {recording.RecordId} ({(recording.Published ? "published" : "unpublished")}): missing {string.Join(", ", missing)}");
            }
        }

        public void Finish() =>
            Report.Notes.Insert(0, $"{_checked} recordings checked under {files.PublishDir} and {files.UnpublishDir}: {(_missing == 0 ? "all files present" : $"{_missing} with missing files")}");
    }
}
