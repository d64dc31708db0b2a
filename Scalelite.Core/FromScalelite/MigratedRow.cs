using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Scalelite.Core.FromScalelite;

/// <summary>
/// The ledger of a migration from Scalelite: for each of Scalelite's rows, which row of ours it became and what both
/// looked like when it was last written. A later run compares Scalelite's row and ours with it to tell which side
/// changed since (see <see cref="SyncRule"/>).
/// </summary>
public sealed class MigratedRow
{
    /// <summary>What kind of row: one of <see cref="MigrationKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>Scalelite's key of the row (a server id, a recordID, a callback_data id with its kind).</summary>
    public required string SourceKey { get; set; }

    /// <summary>Our key of the row it became.</summary>
    public required string TargetKey { get; set; }

    /// <summary>The fingerprint of the row as written (Scalelite's and ours were equal then).</summary>
    public required string Fingerprint { get; set; }

    public DateTimeOffset MigratedAt { get; set; }
}

/// <summary>The values of <see cref="MigratedRow.Kind"/>.</summary>
public static class MigrationKinds
{
    public const string Server = "server";
    public const string Tenant = "tenant";
    public const string Recording = "recording";
    public const string Callback = "callback";
}

internal sealed class MigratedRowConfiguration : IEntityTypeConfiguration<MigratedRow>
{
    public void Configure(EntityTypeBuilder<MigratedRow> builder)
    {
        builder.ToTable("migrated_rows");
        builder.HasKey(m => new { m.Kind, m.SourceKey });
        builder.Property(m => m.Kind).HasColumnName("kind").HasMaxLength(32);
        builder.Property(m => m.SourceKey).HasColumnName("source_key").HasMaxLength(1024);
        builder.Property(m => m.TargetKey).HasColumnName("target_key").HasMaxLength(1024);
        builder.Property(m => m.Fingerprint).HasColumnName("fingerprint").HasMaxLength(64);
        builder.Property(m => m.MigratedAt).HasColumnName("migrated_at");
    }
}
