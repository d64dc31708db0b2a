using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Scalelite.Core.Persistence.Recordings;

/// <remarks>
/// Indexes follow getRecordings' filters: meetingID (exact, with start time for the newest-first order), recordID
/// prefix (<c>text_pattern_ops</c>, so <c>LIKE 'abc%'</c> uses it), metadata key/value, and start time for paging.
/// </remarks>
internal sealed class RecordingConfiguration : IEntityTypeConfiguration<Recording>
{
    public void Configure(EntityTypeBuilder<Recording> builder)
    {
        builder.ToTable("recordings");
        builder.Property(r => r.Id).HasColumnName("id");
        builder.Property(r => r.RecordId).HasColumnName("record_id").HasMaxLength(256);
        builder.Property(r => r.MeetingId).HasColumnName("meeting_id").HasMaxLength(512);
        builder.Property(r => r.InternalMeetingId).HasColumnName("internal_meeting_id").HasMaxLength(256);
        builder.Property(r => r.TenantId).HasColumnName("tenant_id").HasMaxLength(64);
        builder.Property(r => r.Name).HasColumnName("name");
        builder.Property(r => r.IsBreakout).HasColumnName("is_breakout");
        builder.Property(r => r.Published).HasColumnName("published");
        builder.Property(r => r.State).HasColumnName("state").HasMaxLength(32);
        builder.Property(r => r.StartTime).HasColumnName("start_time");
        builder.Property(r => r.EndTime).HasColumnName("end_time");
        builder.Property(r => r.Participants).HasColumnName("participants");
        builder.Property(r => r.RawSize).HasColumnName("raw_size");
        builder.Property(r => r.Protected).HasColumnName("protected");
        builder.Property(r => r.PublishUpdated).HasColumnName("publish_updated");
        builder.Property(r => r.CreatedAt).HasColumnName("created_at");
        builder.Property(r => r.UpdatedAt).HasColumnName("updated_at");
        builder.Property(r => r.DeletedAt).HasColumnName("deleted_at");
        builder.HasIndex(r => r.RecordId).IsUnique();
        builder.HasIndex(r => r.RecordId).HasDatabaseName("ix_recordings_record_id_pattern").HasOperators("text_pattern_ops");
        builder.HasIndex(r => new { r.TenantId, r.MeetingId, r.StartTime });
        // Newest first, ties by id, with the state: an unfiltered page is read from this index alone, and a deep
        // OFFSET walks it without touching the table.
        builder.HasIndex(r => new { r.TenantId, r.StartTime, r.Id }).IsDescending(false, true, true).IncludeProperties(r => r.State);
        builder.HasIndex(r => r.InternalMeetingId);
        builder.HasMany(r => r.Metadata).WithOne().HasForeignKey(m => m.RecordingId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Formats).WithOne().HasForeignKey(f => f.RecordingId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.TextTracks).WithOne().HasForeignKey(t => t.RecordingId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecordingMetadataConfiguration : IEntityTypeConfiguration<RecordingMetadata>
{
    public void Configure(EntityTypeBuilder<RecordingMetadata> builder)
    {
        builder.ToTable("recording_metadata");
        builder.Property(m => m.Id).HasColumnName("id");
        builder.Property(m => m.RecordingId).HasColumnName("recording_id");
        builder.Property(m => m.Key).HasColumnName("key").HasMaxLength(256);
        builder.Property(m => m.Value).HasColumnName("value");
        builder.HasIndex(m => new { m.RecordingId, m.Key }).IsUnique();
        builder.HasIndex(m => new { m.Key, m.Value });
    }
}

internal sealed class PlaybackFormatConfiguration : IEntityTypeConfiguration<PlaybackFormat>
{
    public void Configure(EntityTypeBuilder<PlaybackFormat> builder)
    {
        builder.ToTable("playback_formats");
        builder.Property(f => f.Id).HasColumnName("id");
        builder.Property(f => f.RecordingId).HasColumnName("recording_id");
        builder.Property(f => f.Format).HasColumnName("format").HasMaxLength(64);
        builder.Property(f => f.Url).HasColumnName("url");
        builder.Property(f => f.ProcessingTime).HasColumnName("processing_time");
        builder.Property(f => f.Duration).HasColumnName("duration");
        builder.Property(f => f.Size).HasColumnName("size");
        builder.HasIndex(f => new { f.RecordingId, f.Format }).IsUnique();
        builder.HasMany(f => f.Thumbnails).WithOne().HasForeignKey(t => t.PlaybackFormatId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ThumbnailConfiguration : IEntityTypeConfiguration<Thumbnail>
{
    public void Configure(EntityTypeBuilder<Thumbnail> builder)
    {
        builder.ToTable("thumbnails");
        builder.Property(t => t.Id).HasColumnName("id");
        builder.Property(t => t.PlaybackFormatId).HasColumnName("playback_format_id");
        builder.Property(t => t.Url).HasColumnName("url");
        builder.Property(t => t.Width).HasColumnName("width");
        builder.Property(t => t.Height).HasColumnName("height");
        builder.Property(t => t.Alt).HasColumnName("alt");
        builder.Property(t => t.Sequence).HasColumnName("sequence");
        builder.HasIndex(t => t.PlaybackFormatId);
    }
}

internal sealed class TextTrackConfiguration : IEntityTypeConfiguration<TextTrack>
{
    public void Configure(EntityTypeBuilder<TextTrack> builder)
    {
        builder.ToTable("text_tracks");
        builder.Property(t => t.Id).HasColumnName("id");
        builder.Property(t => t.RecordingId).HasColumnName("recording_id");
        builder.Property(t => t.Kind).HasColumnName("kind").HasMaxLength(32);
        builder.Property(t => t.Lang).HasColumnName("lang").HasMaxLength(64);
        builder.Property(t => t.Label).HasColumnName("label").HasMaxLength(256);
        builder.Property(t => t.Source).HasColumnName("source").HasMaxLength(64);
        builder.Property(t => t.Path).HasColumnName("path").HasMaxLength(1024);
        builder.Property(t => t.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(t => new { t.RecordingId, t.Kind, t.Lang }).IsUnique();
    }
}

internal sealed class CallbackConfiguration : IEntityTypeConfiguration<Callback>
{
    public void Configure(EntityTypeBuilder<Callback> builder)
    {
        builder.ToTable("callbacks");
        builder.Property(c => c.Id).HasColumnName("id");
        builder.Property(c => c.TenantId).HasColumnName("tenant_id").HasMaxLength(64);
        builder.Property(c => c.MeetingId).HasColumnName("meeting_id").HasMaxLength(512);
        builder.Property(c => c.InternalMeetingId).HasColumnName("internal_meeting_id").HasMaxLength(256);
        builder.Property(c => c.Kind).HasColumnName("kind").HasMaxLength(32);
        builder.Property(c => c.Url).HasColumnName("url").HasMaxLength(2048);
        builder.Property(c => c.RecordId).HasColumnName("record_id").HasMaxLength(256);
        builder.Property(c => c.Payload).HasColumnName("payload");
        builder.Property(c => c.Status).HasColumnName("status").HasMaxLength(16);
        builder.Property(c => c.Attempts).HasColumnName("attempts");
        builder.Property(c => c.NextAttemptAt).HasColumnName("next_attempt_at");
        builder.Property(c => c.LastError).HasColumnName("last_error").HasMaxLength(1024);
        builder.Property(c => c.CreatedAt).HasColumnName("created_at");
        builder.Property(c => c.DeliveredAt).HasColumnName("delivered_at");
        builder.HasIndex(c => c.InternalMeetingId);
        builder.HasIndex(c => new { c.TenantId, c.MeetingId });
        builder.HasIndex(c => new { c.Status, c.NextAttemptAt });
    }
}

internal sealed class RecordingImportConfiguration : IEntityTypeConfiguration<RecordingImport>
{
    public void Configure(EntityTypeBuilder<RecordingImport> builder)
    {
        builder.ToTable("recording_imports");
        builder.Property(i => i.Id).HasColumnName("id");
        builder.Property(i => i.Archive).HasColumnName("archive").HasMaxLength(512);
        builder.Property(i => i.RecordId).HasColumnName("record_id").HasMaxLength(256);
        builder.Property(i => i.Outcome).HasColumnName("outcome").HasMaxLength(16);
        builder.Property(i => i.Reason).HasColumnName("reason").HasMaxLength(2048);
        builder.Property(i => i.ArrivedAt).HasColumnName("arrived_at");
        builder.Property(i => i.FinishedAt).HasColumnName("finished_at");
        builder.HasIndex(i => i.FinishedAt);
    }
}

internal sealed class RecordedMeetingConfiguration : IEntityTypeConfiguration<Scalelite.Core.Recordings.RecordedMeeting>
{
    public void Configure(EntityTypeBuilder<Scalelite.Core.Recordings.RecordedMeeting> builder)
    {
        builder.ToTable("recorded_meetings");
        builder.HasKey(r => r.InternalMeetingId);
        builder.Property(r => r.InternalMeetingId).HasColumnName("internal_meeting_id").HasMaxLength(256);
        builder.Property(r => r.MeetingId).HasColumnName("meeting_id").HasMaxLength(512);
        builder.Property(r => r.ServerId).HasColumnName("server_id").HasMaxLength(64);
        builder.Property(r => r.FirstSeenAt).HasColumnName("first_seen_at");
        builder.Property(r => r.LastSeenAt).HasColumnName("last_seen_at");
        builder.HasIndex(r => new { r.ServerId, r.LastSeenAt });
    }
}
