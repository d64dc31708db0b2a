using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Scalelite.Core;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync;
using Scalelite.RecordingSync.Importing;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.RecordingSync;

/// <summary>RecordingSync in this process, on a private set of recording directories and a database of its own.</summary>
internal sealed class RecordingSyncHarness : IAsyncDisposable
{
    private RecordingSyncHarness(IHost host, string root, string database, IReadOnlyDictionary<string, string?> settings)
    {
        Host = host;
        Root = root;
        Database = database;
        Settings = settings;
    }

    public IHost Host { get; }

    public string Root { get; }

    public string Database { get; }

    public IReadOnlyDictionary<string, string?> Settings { get; }

    public string Spool => Path.Combine(Root, "spool");

    public string Work => Path.Combine(Root, "work");

    public string Published => Path.Combine(Root, "published");

    public string Unpublished => Path.Combine(Root, "unpublished");

    public string Failed => Path.Combine(Spool, RecordingImporter.FailedFolder);

    public RecordingFiles Files => Host.Services.GetRequiredService<RecordingFiles>();

    /// <summary>Starts the host. With <paramref name="watch"/> false the spool is not watched, and tests drive <see cref="RecordingImporter"/>.</summary>
    /// <param name="logs">Receives what RecordingSync logs (as the service <c>recordingsync</c>).</param>
    public static async Task<RecordingSyncHarness> StartAsync(
        InfrastructureFixture infrastructure, bool watch, IDictionary<string, string?>? settings = null, string? database = null, string? root = null,
        Scalelite.Tests.Support.LogCapture? logs = null)
    {
        database ??= await infrastructure.CreateDatabaseAsync("recsync");
        root ??= Directory.CreateTempSubdirectory("recsync-").FullName;
        var config = new Dictionary<string, string?>
        {
            ["ConnectionStrings:scalelite"] = database,
            ["ConnectionStrings:redis"] = infrastructure.CreateRedisConnectionString(),
            ["Scalelite:Secrets"] = "recording-secret",
            ["Recording:SpoolDir"] = Path.Combine(root, "spool"),
            ["Recording:WorkDir"] = Path.Combine(root, "work"),
            ["Recording:PublishDir"] = Path.Combine(root, "published"),
            ["Recording:UnpublishDir"] = Path.Combine(root, "unpublished"),
            ["Recording:ImportPollInterval"] = "30",
            ["Recording:ImportSettleTime"] = "0.5",
            ["Recording:Disabled"] = watch ? "false" : "true",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        foreach (var dir in new[] { "spool", "work", "published", "unpublished" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(config);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs.For("recordingsync"));
        }

        builder.AddScaleliteCore();
        builder.AddRecordingSync();
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<DatabaseMigrator>().Migrated.WaitAsync(TimeSpan.FromSeconds(60));
        return new RecordingSyncHarness(host, root, database, config);
    }

    /// <summary>A fresh importer (as after a restart) whose probe is <paramref name="probe"/>.</summary>
    public RecordingImporter NewImporter(IImportProbe? probe = null) => new(
        Host.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>(),
        Host.Services.GetRequiredService<IOptions<RecordingOptions>>(),
        Files,
        probe ?? new NoProbe(),
        Host.Services.GetRequiredService<RecordingSyncMetrics>(),
        Host.Services.GetRequiredService<Scalelite.Core.Meetings.MeetingEvents>(),
        TimeProvider.System,
        NullLogger<RecordingImporter>.Instance);

    public async Task<ScaleliteDbContext> DbAsync() =>
        await Host.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync();

    public async Task<Recording?> RecordingAsync(string recordId)
    {
        await using var db = await DbAsync();
        return await db.Set<Recording>().AsNoTracking()
            .Include(r => r.Metadata).Include(r => r.Formats).ThenInclude(f => f.Thumbnails)
            .SingleOrDefaultAsync(r => r.RecordId == recordId);
    }

    /// <summary>Every file and directory under the root that is not where an importer may write.</summary>
    public List<string> EntriesOutsideTargets() =>
        [.. Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Root, p))
            .Where(p => !(p is "spool" or "work" or "published" or "unpublished"
                || p.StartsWith("spool/", StringComparison.Ordinal)
                || p.StartsWith("work/", StringComparison.Ordinal)
                || p.StartsWith("published/", StringComparison.Ordinal)
                || p.StartsWith("unpublished/", StringComparison.Ordinal)))];

    /// <summary>Dot-named directories (in-flight or set-aside copies) under the publish trees.</summary>
    public List<string> StagingLeftovers() =>
        [.. new[] { Published, Unpublished }.SelectMany(r => Directory.EnumerateDirectories(r, ".*", SearchOption.AllDirectories))];

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        Host.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class NoProbe : IImportProbe
    {
        public void At(ImportStep reached, string recordId)
        {
        }
    }
}
