using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Scalelite.Core.Persistence.Recordings;

namespace Scalelite.Core.Persistence;

/// <summary>PostgreSQL: the durable record of the pool.</summary>
public sealed class ScaleliteDbContext(DbContextOptions<ScaleliteDbContext> options) : DbContext(options)
{
    public DbSet<Server> Servers => Set<Server>();

    public DbSet<ServerEvent> ServerEvents => Set<ServerEvent>();

    public DbSet<Recording> Recordings => Set<Recording>();

    public DbSet<RecordingMetadata> RecordingMetadata => Set<RecordingMetadata>();

    public DbSet<PlaybackFormat> PlaybackFormats => Set<PlaybackFormat>();

    public DbSet<Thumbnail> Thumbnails => Set<Thumbnail>();

    public DbSet<TextTrack> TextTracks => Set<TextTrack>();

    public DbSet<Callback> Callbacks => Set<Callback>();

    public DbSet<RecordingImport> RecordingImports => Set<RecordingImport>();

    public DbSet<Scalelite.Core.Recordings.RecordedMeeting> RecordedMeetings => Set<Scalelite.Core.Recordings.RecordedMeeting>();

    public DbSet<Tenants.TenantRow> Tenants => Set<Tenants.TenantRow>();

    public DbSet<Scalelite.Core.Meetings.History.MeetingHistoryEntry> MeetingHistory => Set<Scalelite.Core.Meetings.History.MeetingHistoryEntry>();

    public DbSet<Scalelite.Core.Meetings.History.MeetingHistoryRecording> MeetingHistoryRecordings => Set<Scalelite.Core.Meetings.History.MeetingHistoryRecording>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ScaleliteDbContext).Assembly);
}

internal sealed class ServerConfiguration : IEntityTypeConfiguration<Server>
{
    public void Configure(EntityTypeBuilder<Server> builder)
    {
        builder.ToTable("servers");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").HasMaxLength(64);
        builder.Property(s => s.Url).HasColumnName("url").HasMaxLength(2048).IsRequired();
        builder.HasIndex(s => s.Url).IsUnique();
        builder.Property(s => s.Secret).HasColumnName("secret").HasMaxLength(512).IsRequired();
        builder.Property(s => s.Tag).HasColumnName("tag").HasMaxLength(256);
        builder.Property(s => s.State).HasColumnName("state").HasConversion(
            v => v.ToString().ToLowerInvariant(),
            v => Enum.Parse<ServerState>(v, true)).HasMaxLength(16);
        builder.Property(s => s.LoadMultiplier).HasColumnName("load_multiplier");
        builder.Property(s => s.Online).HasColumnName("online");
        builder.Property(s => s.HealthyCounter).HasColumnName("healthy_counter");
        builder.Property(s => s.UnhealthyCounter).HasColumnName("unhealthy_counter");
        builder.Property(s => s.LastPolledAt).HasColumnName("last_polled_at");
        builder.Property(s => s.LastPollError).HasColumnName("last_poll_error").HasMaxLength(1024);
        builder.Property(s => s.BbbVersion).HasColumnName("bbb_version").HasMaxLength(64);
        builder.Property(s => s.Meetings).HasColumnName("meetings");
        builder.Property(s => s.Users).HasColumnName("users");
        builder.Property(s => s.LargestMeeting).HasColumnName("largest_meeting");
        builder.Property(s => s.Videos).HasColumnName("videos");
        builder.Property(s => s.Load).HasColumnName("load");
        builder.Property(s => s.Capacity).HasColumnName("capacity");
        builder.Property(s => s.CreatedAt).HasColumnName("created_at");
        builder.Property(s => s.UpdatedAt).HasColumnName("updated_at");
    }
}

internal sealed class ServerEventConfiguration : IEntityTypeConfiguration<ServerEvent>
{
    public void Configure(EntityTypeBuilder<ServerEvent> builder)
    {
        builder.ToTable("server_events");
        builder.Property(e => e.Id).HasColumnName("id");
        builder.Property(e => e.ServerId).HasColumnName("server_id").HasMaxLength(64);
        builder.Property(e => e.Action).HasColumnName("action").HasMaxLength(32);
        builder.Property(e => e.Actor).HasColumnName("actor").HasMaxLength(128);
        builder.Property(e => e.Reason).HasColumnName("reason").HasMaxLength(1024);
        builder.Property(e => e.FromState).HasColumnName("from_state").HasMaxLength(32);
        builder.Property(e => e.ToState).HasColumnName("to_state").HasMaxLength(32);
        builder.Property(e => e.At).HasColumnName("at");
        builder.HasIndex(e => new { e.ServerId, e.At });
        builder.HasIndex(e => e.At);
    }
}
