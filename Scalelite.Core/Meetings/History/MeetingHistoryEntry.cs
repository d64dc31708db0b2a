using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Scalelite.Core.Meetings.History;

/// <summary>
/// One meeting as the history keeps it: one row per meeting a server ran (per internalMeetingID), from its create to
/// its end. A meeting ID created again later is a new row.
/// </summary>
public sealed class MeetingHistoryEntry
{
    public long Id { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public required string MeetingId { get; set; }

    public required string InternalMeetingId { get; set; }

    public string? ServerId { get; set; }

    public string? ServerHost { get; set; }

    /// <summary><c>created</c> (placed by a create through the API), <c>adopted</c> (found running on a server), or null (only its end was seen).</summary>
    public string? Origin { get; set; }

    public DateTimeOffset? CreatedAt { get; set; }

    /// <summary>The servers the placement chose among, with the loads it saw (JSON: serverId, load, chosen, answered).</summary>
    public string? Candidates { get; set; }

    /// <summary>Joins routed to the meeting through the API (redirects handed out, not people who arrived).</summary>
    public int Joins { get; set; }

    public DateTimeOffset? FirstJoinAt { get; set; }

    public DateTimeOffset? LastJoinAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary><see cref="MeetingEvents.EndedBy"/>: api, server-offline, poll, stale-copy, operator, create-undone.</summary>
    public string? EndedBy { get; set; }

    public string? EndDetail { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A recording of a meeting, as the history keeps it: when it was imported, and how long after the meeting ended.</summary>
public sealed class MeetingHistoryRecording
{
    public long Id { get; set; }

    public string TenantId { get; set; } = string.Empty;

    public required string MeetingId { get; set; }

    public required string InternalMeetingId { get; set; }

    public required string RecordId { get; set; }

    /// <summary>Every format imported so far (BBB may publish them hours apart, in archives of their own).</summary>
    public string[] Formats { get; set; } = [];

    /// <summary>When it was first imported, so first listed by getRecordings.</summary>
    public DateTimeOffset ImportedAt { get; set; }

    public DateTimeOffset LastImportedAt { get; set; }

    /// <summary>The meeting's end as the history knew it at the import, else the recording's own end time.</summary>
    public DateTimeOffset? MeetingEndedAt { get; set; }

    /// <summary><see cref="ImportedAt"/> − <see cref="MeetingEndedAt"/>: how long after the meeting its recording was listed.</summary>
    public double? ImportDelaySeconds { get; set; }
}

internal sealed class MeetingHistoryEntryConfiguration : IEntityTypeConfiguration<MeetingHistoryEntry>
{
    public void Configure(EntityTypeBuilder<MeetingHistoryEntry> builder)
    {
        builder.ToTable("meeting_history");
        builder.Property(h => h.Id).HasColumnName("id");
        builder.Property(h => h.TenantId).HasColumnName("tenant_id").HasMaxLength(64);
        builder.Property(h => h.MeetingId).HasColumnName("meeting_id").HasMaxLength(256);
        builder.Property(h => h.InternalMeetingId).HasColumnName("internal_meeting_id").HasMaxLength(256);
        builder.Property(h => h.ServerId).HasColumnName("server_id").HasMaxLength(64);
        builder.Property(h => h.ServerHost).HasColumnName("server_host").HasMaxLength(256);
        builder.Property(h => h.Origin).HasColumnName("origin").HasMaxLength(16);
        builder.Property(h => h.CreatedAt).HasColumnName("created_at");
        builder.Property(h => h.Candidates).HasColumnName("candidates").HasColumnType("jsonb");
        builder.Property(h => h.Joins).HasColumnName("joins");
        builder.Property(h => h.FirstJoinAt).HasColumnName("first_join_at");
        builder.Property(h => h.LastJoinAt).HasColumnName("last_join_at");
        builder.Property(h => h.EndedAt).HasColumnName("ended_at");
        builder.Property(h => h.EndedBy).HasColumnName("ended_by").HasMaxLength(32);
        builder.Property(h => h.EndDetail).HasColumnName("end_detail").HasMaxLength(MeetingHistoryChange.MaxDetailLength);
        builder.Property(h => h.UpdatedAt).HasColumnName("updated_at");
        builder.HasIndex(h => h.InternalMeetingId).IsUnique();
        builder.HasIndex(h => new { h.TenantId, h.MeetingId });
        builder.HasIndex(h => h.EndedAt);
        builder.HasIndex(h => h.UpdatedAt);
    }
}

internal sealed class MeetingHistoryRecordingConfiguration : IEntityTypeConfiguration<MeetingHistoryRecording>
{
    public void Configure(EntityTypeBuilder<MeetingHistoryRecording> builder)
    {
        builder.ToTable("meeting_history_recordings");
        builder.Property(r => r.Id).HasColumnName("id");
        builder.Property(r => r.TenantId).HasColumnName("tenant_id").HasMaxLength(64);
        builder.Property(r => r.MeetingId).HasColumnName("meeting_id").HasMaxLength(256);
        builder.Property(r => r.InternalMeetingId).HasColumnName("internal_meeting_id").HasMaxLength(256);
        builder.Property(r => r.RecordId).HasColumnName("record_id").HasMaxLength(256);
        builder.Property(r => r.Formats).HasColumnName("formats");
        builder.Property(r => r.ImportedAt).HasColumnName("imported_at");
        builder.Property(r => r.LastImportedAt).HasColumnName("last_imported_at");
        builder.Property(r => r.MeetingEndedAt).HasColumnName("meeting_ended_at");
        builder.Property(r => r.ImportDelaySeconds).HasColumnName("import_delay_seconds");
        builder.HasIndex(r => r.RecordId).IsUnique();
        builder.HasIndex(r => r.InternalMeetingId);
        builder.HasIndex(r => new { r.TenantId, r.MeetingId });
        builder.HasIndex(r => r.ImportedAt);
    }
}
