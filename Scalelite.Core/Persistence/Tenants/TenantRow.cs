using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Scalelite.Core.Persistence.Tenants;

/// <summary>A tenant as PostgreSQL keeps it: the durable record behind <see cref="Tenancy.Tenant"/>.</summary>
public sealed class TenantRow
{
    /// <summary>A UUID; tenants migrated from Scalelite keep Scalelite's.</summary>
    public string Id { get; set; } = Guid.CreateVersion7().ToString();

    /// <summary>Lower case: the host label (<c>NAME.URL_HOST</c>) and path segment (<c>/t/NAME</c>) it is reached by.</summary>
    public required string Name { get; set; }

    /// <summary>Every accepted secret, separated by ':' as in Scalelite; the first signs the tenant's callbacks.</summary>
    public required string Secrets { get; set; }

    public int? MaxMeetings { get; set; }

    public int? MaxParticipants { get; set; }

    public int? MaxMeetingParticipants { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<TenantSettingRow> Settings { get; set; } = [];

    public IReadOnlyList<string> SecretList() => SplitSecrets(Secrets);

    public static IReadOnlyList<string> SplitSecrets(string? secrets) =>
        string.IsNullOrEmpty(secrets) ? [] : [.. secrets.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}

/// <summary>A create or join parameter a tenant's meetings get: a default (the request wins) or an override.</summary>
public sealed class TenantSettingRow
{
    public string Id { get; set; } = Guid.CreateVersion7().ToString();

    public required string TenantId { get; set; }

    public required string Param { get; set; }

    public required string Value { get; set; }

    public bool Override { get; set; }

    /// <summary>One of <see cref="Tenancy.TenantSettingScope"/>.</summary>
    public string Scope { get; set; } = Tenancy.TenantSettingScope.All;

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<TenantRow>
{
    public void Configure(EntityTypeBuilder<TenantRow> builder)
    {
        builder.ToTable("tenants");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasColumnName("id").HasMaxLength(64);
        builder.Property(t => t.Name).HasColumnName("name").HasMaxLength(63).IsRequired();
        builder.HasIndex(t => t.Name).IsUnique();
        builder.Property(t => t.Secrets).HasColumnName("secrets").HasMaxLength(4096).IsRequired();
        builder.Property(t => t.MaxMeetings).HasColumnName("max_meetings");
        builder.Property(t => t.MaxParticipants).HasColumnName("max_participants");
        builder.Property(t => t.MaxMeetingParticipants).HasColumnName("max_meeting_participants");
        builder.Property(t => t.CreatedAt).HasColumnName("created_at");
        builder.Property(t => t.UpdatedAt).HasColumnName("updated_at");
        builder.HasMany(t => t.Settings).WithOne().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TenantSettingConfiguration : IEntityTypeConfiguration<TenantSettingRow>
{
    public void Configure(EntityTypeBuilder<TenantSettingRow> builder)
    {
        builder.ToTable("tenant_settings");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasColumnName("id").HasMaxLength(64);
        builder.Property(s => s.TenantId).HasColumnName("tenant_id").HasMaxLength(64);
        builder.Property(s => s.Param).HasColumnName("param").HasMaxLength(256).IsRequired();
        builder.Property(s => s.Value).HasColumnName("value").HasMaxLength(4096).IsRequired();
        builder.Property(s => s.Override).HasColumnName("override");
        builder.Property(s => s.Scope).HasColumnName("scope").HasMaxLength(16);
        builder.Property(s => s.CreatedAt).HasColumnName("created_at");
        builder.HasIndex(s => s.TenantId);
    }
}
