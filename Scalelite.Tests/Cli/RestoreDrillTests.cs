using System.Globalization;
using System.Text.Json;
using Npgsql;
using Scalelite.Cli;
using Scalelite.Core.Bbb;
using Scalelite.Core.Meetings.History;
using Scalelite.Core.Tenancy;
using Scalelite.LocalServers;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.RecordingSync;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Cli;

/// <summary>
/// The restore drill of docs/operations.md ("Backup and restore"), with the real PostgreSQL tools: pg_dump -Fc, drop
/// the database, pg_restore, restart the services; and <c>scalelite recordings verify</c> after it.
/// </summary>
public sealed class RestoreDrillTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Restore_DumpDropRestoreRestart_AnswersServersRecordingsAndHistoryAsBeforeAndVerifiesClean()
    {
        using var volume = new Volume();
        await using var before = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: volume.Settings);
        var database = before.Database;

        // Servers are the harness's; recordings with their files; meeting history (two meetings created and ended).
        for (var i = 0; i < 3; i++)
        {
            volume.WriteFormat("presentation", $"rec-{i}", "drill-meeting");
        }

        volume.WriteFormat("video", "rec-0", "drill-meeting");
        var reindex = await CliAsync(database, before.Redis, volume, "reindex", volume.Publish);
        Assert.True(reindex.Exit == CliApp.Ok, reindex.Out + reindex.Err);
        XmlAssert.Success(await before.Client.CreateAsync("drill-meeting", ("record", "true")));
        XmlAssert.Success(await before.Client.CreateAsync("drill-ended", ("record", "true")));
        XmlAssert.Success(await before.Client.CallAsync("end", ("meetingID", "drill-ended")));
        XmlAssert.Success(await before.Client.CallAsync("end", ("meetingID", "drill-meeting")));
        await before.PollAsync();
        var history = before.ApiService<MeetingHistoryQuery>();
        await Eventually.TrueAsync(
            async () => (await history.FindAsync(Tenant.DefaultId, "drill-ended", CancellationToken.None))?.Runs is [{ EndedAt: not null }],
            TimeSpan.FromSeconds(60), "the ended meeting's history is written");

        var servers = await GetServersAsync(before);
        var story = JsonSerializer.Serialize(await history.FindAsync(Tenant.DefaultId, "drill-ended", CancellationToken.None));
        var recordings = await before.Client.Http.GetStringAsync(before.Client.Url("getRecordings", "meetingID=drill-meeting&state=any"));
        Assert.Contains("rec-2", recordings, StringComparison.Ordinal);

        var dump = await DumpAsync(database, volume);
        await StopServicesAsync(before);
        await DropAndRestoreAsync(database, dump);

        // The services come back on the restored database; the servers' simulators never went away.
        await using var after = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: volume.Settings, redis: before.Redis, database: database, registerServers: false);
        Assert.Equal(servers, await GetServersAsync(after));
        Assert.Equal(recordings, await after.Client.Http.GetStringAsync(after.Client.Url("getRecordings", "meetingID=drill-meeting&state=any")));
        Assert.Equal(story, JsonSerializer.Serialize(await after.ApiService<MeetingHistoryQuery>().FindAsync(Tenant.DefaultId, "drill-ended", CancellationToken.None)));

        var verify = await CliAsync(database, after.Redis, volume, "verify");
        Assert.True(verify.Exit == CliApp.Ok, verify.Out + verify.Err);
        Assert.Contains("3 recording(s) and 4 directories checked: 0 with missing files, 0 directories no recording knows", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_WithoutRedis_RebuildsOwnershipOfRunningMeetingsInOnePoll()
    {
        using var volume = new Volume();
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var before = await PoolHarness.StartAsync(infrastructure, simulators: 3, settings: volume.Settings, redis: redis.ConnectionString);
        var meetings = Enumerable.Range(0, 6).Select(i => $"running-{i}").ToList();
        foreach (var meeting in meetings)
        {
            XmlAssert.Success(await before.Client.CreateAsync(meeting));
        }

        var placed = Placement(before);
        Assert.Equal(meetings.Count, placed.Count);
        var dump = await DumpAsync(before.Database, volume);
        await StopServicesAsync(before);
        await DropAndRestoreAsync(before.Database, dump);
        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{redis.ConnectionString},allowAdmin=true"))
        {
            foreach (var server in admin.GetServers())
            {
                await server.FlushAllDatabasesAsync();
            }
        }

        // Starting runs exactly one poll cycle: ownership must be back after it, before any further poll.
        await using var after = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: volume.Settings, redis: redis.ConnectionString, database: before.Database, registerServers: false);
        foreach (var meeting in meetings)
        {
            XmlAssert.Success(await after.Client.CallAsync("getMeetingInfo", ("meetingID", meeting)));
            // A create of a running meeting must reach the server that has it, not place a second copy elsewhere.
            XmlAssert.Success(await after.Client.CreateAsync(meeting));
        }

        Assert.Equal(placed, Placement(before));
    }

    [Fact]
    public async Task Verify_MissingFilesAndUnknownDirectories_ReportsEachAndFails()
    {
        using var volume = new Volume();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: volume.Settings);
        volume.WriteFormat("presentation", "rec-kept", "verified");
        volume.WriteFormat("presentation", "rec-lost", "verified");
        volume.WriteFormat("podcast", "rec-lost", "verified");
        var reindex = await CliAsync(pool.Database, pool.Redis, volume, "reindex", volume.Publish);
        Assert.True(reindex.Exit == CliApp.Ok, reindex.Out + reindex.Err);
        var clean = await CliAsync(pool.Database, pool.Redis, volume, "verify");
        Assert.True(clean.Exit == CliApp.Ok, clean.Out + clean.Err);

        Directory.Delete(Path.Combine(volume.Publish, "presentation", "rec-lost"), recursive: true);
        volume.WriteFormat("presentation", "rec-stray", "verified");
        Directory.CreateDirectory(Path.Combine(volume.Publish, "captions", "rec-nobody"));
        Directory.CreateDirectory(Path.Combine(volume.Publish, "captions", "rec-kept"));
        Directory.CreateDirectory(Path.Combine(volume.Publish, "presentation", ".rec-kept.incoming.0001"));

        var found = await CliAsync(pool.Database, pool.Redis, volume, "verify");
        Assert.Equal(CliApp.Failed, found.Exit);
        Assert.Contains("missing files: recording rec-lost (published): presentation", found.Out, StringComparison.Ordinal);
        Assert.Contains($"unknown directory: {Path.Combine(volume.Publish, "presentation", "rec-stray")}", found.Out, StringComparison.Ordinal);
        Assert.Contains($"unknown directory: {Path.Combine(volume.Publish, "captions", "rec-nobody")}", found.Out, StringComparison.Ordinal);
        Assert.Contains("1 with missing files, 2 directories no recording knows", found.Out, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Placement(PoolHarness pool) =>
        pool.Simulators.Servers.SelectMany(s => s.GetMeetings().Select(m => (m.MeetingId, s.Id)))
            .ToDictionary(p => p.MeetingId, p => p.Id, StringComparer.Ordinal);

    private static Task<string> GetServersAsync(PoolHarness pool)
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "getServers", string.Empty, PoolHarness.Secret);
        var origin = pool.ApiBase[..pool.ApiBase.IndexOf("/bigbluebutton/api", StringComparison.Ordinal)];
        return pool.Client.Http.GetStringAsync($"{origin}/scalelite/api/getServers?checksum={checksum}");
    }

    /// <summary>Stops the API and the poller of a pool (the simulators keep running: they are the BBB servers).</summary>
    private static async Task StopServicesAsync(PoolHarness pool)
    {
        await pool.Api.StopAsync();
        await pool.Poller.StopAsync();
        NpgsqlConnection.ClearAllPools();
    }

    private static (string Name, int Port) Target(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return (builder.Database!, builder.Port);
    }

    private static async Task<string> DumpAsync(string database, Volume volume)
    {
        var (name, port) = Target(database);
        var file = Path.Combine(volume.Root, "scalelite.dump");
        await CommandRunner.RunCheckedAsync(Tool("pg_dump"), [.. Connection(port), "-Fc", "-f", file, name], CancellationToken.None);
        return file;
    }

    private async Task DropAndRestoreAsync(string database, string dump)
    {
        var (name, port) = Target(database);
        await infrastructure.Postgres.ExecuteScalarAsync("postgres", $"drop database \"{name}\" with (force)");
        await infrastructure.Postgres.ExecuteScalarAsync("postgres", $"create database \"{name}\"");
        await CommandRunner.RunCheckedAsync(Tool("pg_restore"), [.. Connection(port), "--no-owner", "--exit-on-error", "-d", name, dump], CancellationToken.None);
    }

    private static string[] Connection(int port) => ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-U", PostgresServer.ServerUser];

    private static string Tool(string program) => Path.Combine(Prerequisites.FindPostgresBinDirectory(), program);

    private static async Task<(int Exit, string Out, string Err)> CliAsync(string database, string redis, Volume volume, params string[] args)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__scalelite"] = database,
            ["ConnectionStrings__redis"] = redis,
            ["RECORDING_PUBLISH_DIR"] = volume.Publish,
            ["RECORDING_UNPUBLISH_DIR"] = volume.Unpublish,
        };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await new CliApp(output, error, name => environment.GetValueOrDefault(name)).InvokeAsync(["recordings", .. args]);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A recording volume of the test's own.</summary>
    private sealed class Volume : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("scalelite-drill-").FullName;

        public string Publish => Path.Combine(Root, "published");

        public string Unpublish => Path.Combine(Root, "unpublished");

        public Dictionary<string, string?> Settings => new()
        {
            ["Recording:PublishDir"] = Publish,
            ["Recording:UnpublishDir"] = Unpublish,
            // Links name the host the client called; the restarted API listens on another port.
            ["Scalelite:UrlHost"] = "lb.example.com",
        };

        public void WriteFormat(string format, string recordId, string meetingId)
        {
            var directory = Path.Combine(Publish, format, recordId);
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "metadata.xml"), TestArchives.MetadataXml(recordId, format, meetingId));
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
