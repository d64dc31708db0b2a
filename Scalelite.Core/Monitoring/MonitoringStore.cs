using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Monitoring;

/// <summary>The alerts and the services' monitoring reports in PostgreSQL: written by their owners, read by anyone.</summary>
public sealed class MonitoringStore(IDbContextFactory<ScaleliteDbContext> dbFactory)
{
    /// <summary>The evaluator's heartbeat: when it last evaluated, so a reader can tell a quiet pool from a stopped evaluator.</summary>
    public const string EvaluatorSource = "evaluator";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Replaces the stored alerts with <paramref name="alerts"/> and records the evaluation, in one transaction.</summary>
    public async Task SaveAlertsAsync(IReadOnlyList<ActiveAlert> alerts, DateTimeOffset evaluatedAt, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Set<AlertRecord>().ExecuteDeleteAsync(ct);
        db.Set<AlertRecord>().AddRange(alerts.Select(a => new AlertRecord
        {
            Alert = a.Alert, Subject = a.Subject, Severity = a.SeverityName, Since = a.Since, Value = a.Value, Threshold = a.Threshold,
            Message = a.Message, LastTrueAt = a.LastTrueAt,
        }));
        await db.SaveChangesAsync(ct);
        await UpsertAsync(db, EvaluatorSource, "{}", evaluatedAt, ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>The stored alerts, worst first, and when the evaluator last stored them (null: never).</summary>
    public async Task<(IReadOnlyList<ActiveAlert> Alerts, DateTimeOffset? EvaluatedAt)> ReadAlertsAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Set<AlertRecord>().AsNoTracking().ToListAsync(ct);
        var evaluated = await db.Set<MonitoringReport>().AsNoTracking().Where(r => r.Source == EvaluatorSource).Select(r => (DateTimeOffset?)r.ReportedAt).FirstOrDefaultAsync(ct);
        var book = new AlertBook();
        book.Restore(rows.Select(r => new ActiveAlert(r.Alert, r.Subject, ActiveAlert.ParseSeverity(r.Severity), r.Since, r.Value, r.Threshold, r.Message, r.LastTrueAt)));
        return (book.Active, evaluated);
    }

    /// <summary>Replaces the report of <paramref name="source"/>.</summary>
    public async Task ReportAsync<T>(string source, T report, DateTimeOffset at, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await UpsertAsync(db, source, JsonSerializer.Serialize(report, Json), at, ct);
    }

    /// <summary>The last report of <paramref name="source"/> and when it was made; null when it never reported.</summary>
    public async Task<(T Report, DateTimeOffset At)?> ReadReportAsync<T>(string source, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Set<MonitoringReport>().AsNoTracking().FirstOrDefaultAsync(r => r.Source == source, ct);
        return row is null || JsonSerializer.Deserialize<T>(row.Body, Json) is not { } report ? null : (report, row.ReportedAt);
    }

    private static Task<int> UpsertAsync(ScaleliteDbContext db, string source, string body, DateTimeOffset at, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO monitoring_reports (source, body, reported_at) VALUES ({source}, {body}, {at}) ON CONFLICT (source) DO UPDATE SET body = excluded.body, reported_at = excluded.reported_at",
            ct);
}
