using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Scalelite.Core;
using Scalelite.Core.Configuration;
using Scalelite.Core.FromScalelite;
using Scalelite.Core.Persistence;
using Scalelite.Core.Recordings;
using StackExchange.Redis;

namespace Scalelite.Cli;

/// <summary>
/// The commands that work on our PostgreSQL, Redis and recording volume directly rather than through the API:
/// <c>migrate from-scalelite</c>, <c>recordings reindex</c> and <c>recordings verify</c>. They read the services' own settings
/// (<c>ConnectionStrings__scalelite</c> or <c>DATABASE_URL</c>, <c>ConnectionStrings__redis</c> or <c>REDIS_URL</c>,
/// <c>RECORDING_PUBLISH_DIR</c>, ...), so they run where the services' environment is.
/// </summary>
internal sealed class LocalCommands(TextWriter output, TextWriter error, Func<string, string?> environment)
{
    public void AddTo(RootCommand root)
    {
        var migrate = new Command("migrate", "Move a running deployment's data here.");
        var databaseUrl = new Option<string>("--database-url") { Description = "Scalelite's DATABASE_URL (read only).", Required = true };
        var redisUrl = new Option<string>("--redis-url") { Description = "Scalelite's REDIS_URL (read only).", Required = true };
        var redisNamespace = new Option<string?>("--redis-namespace") { Description = "Scalelite's REDIS_NAMESPACE (default: $REDIS_NAMESPACE, else 'scalelite')." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would change; change nothing." };
        var noFileCheck = new Option<bool>("--no-file-check") { Description = "Do not look for each recording's files on the recording volume." };
        var verbose = new Option<bool>("--verbose") { Description = "List every change, not only the first 20 of each kind." };
        var fromScalelite = new Command("from-scalelite", "Import servers, tenants, running meetings, the recordings index and callbacks from Scalelite; Scalelite is only read.")
        {
            databaseUrl, redisUrl, redisNamespace, dryRun, noFileCheck, verbose,
        };
        fromScalelite.SetAction((p, ct) => MigrateAsync(
            p.GetValue(databaseUrl)!, p.GetValue(redisUrl)!, p.GetValue(redisNamespace) ?? environment("REDIS_NAMESPACE") ?? ScaleliteSource.DefaultNamespace,
            new MigrationOptions(p.GetValue(dryRun), !p.GetValue(noFileCheck)), p.GetValue(verbose), ct));
        migrate.Add(fromScalelite);
        root.Add(migrate);

        var recordings = new Command("recordings", "The recordings index.");
        var directory = new Argument<DirectoryInfo>("dir") { Description = "A published/ or unpublished/ tree: <format>/<recordID>/metadata.xml." };
        var reindexDryRun = new Option<bool>("--dry-run") { Description = "Print what would be added; change nothing." };
        var reindex = new Command("reindex", "Add the recordings of a tree on disk to the index (only what the index lacks).") { directory, reindexDryRun };
        reindex.SetAction((p, ct) => ReindexAsync(p.GetValue(directory)!, p.GetValue(reindexDryRun), ct));
        recordings.Add(reindex);
        var verify = new Command("verify", "Compare the index with the recording volume: recordings whose files are missing, directories no recording knows. Exit code 1 when anything is found.");
        verify.SetAction((_, ct) => VerifyAsync(ct));
        recordings.Add(verify);
        root.Add(recordings);
    }

    private Task<int> MigrateAsync(string databaseUrl, string redisUrl, string redisNamespace, MigrationOptions options, bool verbose, CancellationToken ct) =>
        WithServicesAsync(async host =>
        {
            await using var source = await ScaleliteSource.OpenAsync(databaseUrl, redisUrl, redisNamespace, ct);
            var migration = host.Services.GetRequiredService<ScaleliteMigration>();
            // Before our schema is applied: never write it into Scalelite's own database.
            await migration.EnsureSeparateDatabaseAsync(source, ct);
            if (!options.DryRun && await PrepareDatabaseAsync(host, ct) is { } failed)
            {
                return failed;
            }

            var report = await migration.RunAsync(source, options, ct);
            report.Write(output, verbose ? null : 20);
            return CliApp.Ok;
        });

    private Task<int> ReindexAsync(DirectoryInfo directory, bool dryRun, CancellationToken ct) =>
        WithServicesAsync(async host =>
        {
            if (!dryRun && await PrepareDatabaseAsync(host, ct) is { } failed)
            {
                return failed;
            }

            var report = await host.Services.GetRequiredService<RecordingReindex>().RunAsync(directory.FullName, dryRun, ct);
            report.Write(output, dryRun);
            return CliApp.Ok;
        });

    private Task<int> VerifyAsync(CancellationToken ct) =>
        WithServicesAsync(async host =>
        {
            var report = await host.Services.GetRequiredService<RecordingVerify>().RunAsync(ct);
            report.Write(output);
            return report.Clean ? CliApp.Ok : CliApp.Failed;
        });

    /// <summary>Our services' PostgreSQL, Redis and recording volume, from their own settings.</summary>
    private async Task<int> WithServicesAsync(Func<IHost, Task<int>> action)
    {
        IHost host;
        try
        {
            host = BuildHost();
        }
        catch (InvalidOperationException e)
        {
            error.WriteLine(e.Message);
            return CliApp.Usage;
        }

        using (host)
        {
            try
            {
                return await action(host);
            }
            catch (DbUpdateException e)
            {
                // Another writer (an import, an LMS call) changed the same row meanwhile; finished batches are kept.
                error.WriteLine($"{e.InnerException?.Message ?? e.Message} Nothing of the failed batch was written; run the command again.");
                return CliApp.Failed;
            }
            catch (Exception e) when (e is MigrationRefusedException or NpgsqlException or RedisException or TimeoutException
                or InvalidOperationException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine(e.Message);
                return CliApp.Failed;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>Brings our schema up to date, as the services do when they start (serialised with any service starting now).</summary>
    /// <returns>Null when done; an exit code when it could not be.</returns>
    private async Task<int?> PrepareDatabaseAsync(IHost host, CancellationToken ct)
    {
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync(ct))
        {
            if (!await db.Database.CanConnectAsync(ct))
            {
                error.WriteLine("Cannot connect to our PostgreSQL (ConnectionStrings__scalelite / DATABASE_URL).");
                return CliApp.Failed;
            }
        }

        await host.StartAsync(ct);
        await host.Services.GetRequiredService<DatabaseMigrator>().Migrated.WaitAsync(TimeSpan.FromMinutes(2), ct);
        return null;
    }

    private IHost BuildHost()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddScaleliteEnvironment(environment);
        var ours = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in SettingCatalog.All)
        {
            if (environment(setting.Key.Replace(":", "__", StringComparison.Ordinal)) is { } value)
            {
                ours[setting.Key] = value;
            }
        }

        builder.Configuration.AddInMemoryCollection(ours);
        builder.AddScaleliteCore();
        builder.Services.AddSingleton<RecordingFiles>();
        builder.Services.AddSingleton<RecordingReindex>();
        builder.Services.AddSingleton<RecordingVerify>();
        builder.Services.AddSingleton<ScaleliteMigration>();
        return builder.Build();
    }
}
