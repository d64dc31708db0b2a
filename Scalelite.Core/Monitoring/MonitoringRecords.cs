using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Scalelite.Core.Monitoring;

/// <summary>An active alert as stored for every API replica to show (table <c>alerts</c>); the evaluator owns the rows.</summary>
public sealed class AlertRecord
{
    public required string Alert { get; set; }

    public required string Subject { get; set; }

    public required string Severity { get; set; }

    public DateTimeOffset Since { get; set; }

    public double Value { get; set; }

    public double Threshold { get; set; }

    public string Message { get; set; } = string.Empty;

    /// <summary>When the condition was last found true; it clears once false for the hysteresis period after this.</summary>
    public DateTimeOffset LastTrueAt { get; set; }
}

/// <summary>
/// What a service last reported for the evaluator (table <c>monitoring_reports</c>): RecordingSync's look at the
/// recording volume and the spool, and the evaluator's own heartbeat. One row per source, replaced each time.
/// </summary>
public sealed class MonitoringReport
{
    public required string Source { get; set; }

    /// <summary>JSON, its shape the source's (e.g. <see cref="RecordingReport"/>).</summary>
    public string Body { get; set; } = "{}";

    public DateTimeOffset ReportedAt { get; set; }
}

internal sealed class AlertRecordConfiguration : IEntityTypeConfiguration<AlertRecord>
{
    public void Configure(EntityTypeBuilder<AlertRecord> builder)
    {
        builder.ToTable("alerts");
        builder.HasKey(a => new { a.Alert, a.Subject });
        builder.Property(a => a.Alert).HasColumnName("alert").HasMaxLength(64);
        builder.Property(a => a.Subject).HasColumnName("subject").HasMaxLength(1024);
        builder.Property(a => a.Severity).HasColumnName("severity").HasMaxLength(16);
        builder.Property(a => a.Since).HasColumnName("since");
        builder.Property(a => a.Value).HasColumnName("value");
        builder.Property(a => a.Threshold).HasColumnName("threshold");
        builder.Property(a => a.Message).HasColumnName("message").HasMaxLength(2048);
        builder.Property(a => a.LastTrueAt).HasColumnName("last_true_at");
    }
}

internal sealed class MonitoringReportConfiguration : IEntityTypeConfiguration<MonitoringReport>
{
    public void Configure(EntityTypeBuilder<MonitoringReport> builder)
    {
        builder.ToTable("monitoring_reports");
        builder.HasKey(r => r.Source);
        builder.Property(r => r.Source).HasColumnName("source").HasMaxLength(64);
        builder.Property(r => r.Body).HasColumnName("body");
        builder.Property(r => r.ReportedAt).HasColumnName("reported_at");
    }
}
