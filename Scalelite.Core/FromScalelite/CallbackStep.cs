using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Core.FromScalelite;

/// <summary>
/// Scalelite's <c>callback_data</c> (the recording-ready and analytics URLs an LMS passed at create) becomes our
/// captured callbacks, so that recordings of those meetings still call the LMS back once imported here.
/// </summary>
/// <remarks>
/// Scalelite keeps one row per meetingID for good and calls its recording-ready URL after every import of a recording
/// of that meeting, not only the next one (a recurring meeting keeps its URL). A captured row here without an internal
/// meeting id behaves the same: the importer turns it into a delivery for every recording of that meetingID it
/// imports. So every row is migrated, not only those still waiting for a first recording. A row's tenant is the one
/// its meeting belongs to in Scalelite (running meeting or recordings), since <c>callback_data</c> does not say.
/// </remarks>
internal sealed class CallbackStep : IMigrationStep
{
    public const string Name = "callbacks";

    private sealed record Projection(string TenantId, string MeetingId, string Kind, string Url);

    public async Task RunAsync(MigrationContext context, CancellationToken ct)
    {
        var report = context.Report.Add(new StepReport(Name));
        var sources = await context.Source.ReadCallbacksAsync(ct);
        var wanted = new List<(string Key, Projection Row, DateTimeOffset CreatedAt)>();
        foreach (var source in sources)
        {
            foreach (var (kind, url) in new[] { (CallbackStatus.RecordingReady, source.RecordingReadyUrl), (CallbackStatus.Analytics, source.AnalyticsCallbackUrl) })
            {
                if (url is null)
                {
                    continue;
                }

                var key = $"{source.Id}:{kind}";
                if (string.IsNullOrEmpty(source.MeetingId) || source.MeetingId.Length > 512)
                {
                    report.Skip($"callback {key}: {(string.IsNullOrEmpty(source.MeetingId) ? "no meeting_id" : "a meetingID longer than 512 characters")}");
                    continue;
                }

                if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    report.Skip($"callback {key}: '{url}' is not an http(s) URL");
                    continue;
                }

                if (context.Tenants.Map(context.MeetingTenants.GetValueOrDefault(source.MeetingId)) is not { } tenantId)
                {
                    context.Wait(Name);
                    continue;
                }

                wanted.Add((key, new Projection(tenantId, source.MeetingId, kind, url), source.CreatedAt is { } at ? new DateTimeOffset(at) : context.Now));
            }
        }

        var pending = sources.Count(s => s.RecordingId is null && s.RecordingReadyUrl is not null);
        report.Notes.Add($"{sources.Count} rows in Scalelite, {pending} of them still waiting for a first recording");

        foreach (var chunk in wanted.Chunk(context.Options.BatchSize))
        {
            await using var db = await context.Databases.CreateDbContextAsync(ct);
            var ledger = await context.LedgerAsync(db, MigrationKinds.Callback, [.. chunk.Select(c => c.Key)], ct);
            var ids = ledger.Values.Select(l => long.TryParse(l.TargetKey, out var id) ? id : 0).ToArray();
            var ours = context.TargetReady ? await db.Callbacks.Where(c => ids.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct) : [];
            var written = new List<(string Key, Callback Row, string Fingerprint)>();
            foreach (var (key, row, createdAt) in chunk)
            {
                var fingerprint = Fingerprint.Of(row);
                var current = ledger.TryGetValue(key, out var entry) && long.TryParse(entry.TargetKey, out var id) ? ours.GetValueOrDefault(id) : null;
                var decision = SyncRule.Decide(entry?.Fingerprint, fingerprint, current is null ? null : Fingerprint.Of(Project(current)));
                switch (decision)
                {
                    case SyncDecision.Add:
                        current = new Callback
                        {
                            TenantId = row.TenantId,
                            MeetingId = row.MeetingId,
                            Kind = row.Kind,
                            Url = row.Url,
                            Status = CallbackStatus.Captured,
                            CreatedAt = createdAt,
                        };
                        db.Callbacks.Add(current);
                        written.Add((key, current, fingerprint));
                        report.Count(decision, $"+ {row.Kind} callback of meeting {row.MeetingId}");
                        break;
                    case SyncDecision.Update:
                        current!.TenantId = row.TenantId;
                        current.MeetingId = row.MeetingId;
                        current.Kind = row.Kind;
                        current.Url = row.Url;
                        written.Add((key, current, fingerprint));
                        report.Count(decision, $"~ {row.Kind} callback of meeting {row.MeetingId}: taken from Scalelite");
                        break;
                    case SyncDecision.Record:
                        written.Add((key, current!, fingerprint));
                        report.Count(decision);
                        break;
                    case SyncDecision.Conflict:
                        report.Count(decision, $"! {row.Kind} callback of meeting {row.MeetingId}: changed here and in Scalelite since the last run; ours kept");
                        break;
                    default:
                        report.Count(decision);
                        break;
                }
            }

            if (context.DryRun)
            {
                continue;
            }

            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.SaveChangesAsync(ct);
            foreach (var (key, row, fingerprint) in written)
            {
                context.Remember(db, ledger, MigrationKinds.Callback, key, row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), fingerprint);
            }

            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
    }

    private static Projection Project(Callback c) => new(c.TenantId, c.MeetingId, c.Kind, c.Url);
}
