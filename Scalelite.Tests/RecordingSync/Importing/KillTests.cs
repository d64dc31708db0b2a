using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.RecordingSync.Importing;

/// <summary>A real RecordingSync process killed with SIGKILL in the middle of an import, then started again.</summary>
public sealed class KillTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const int FilesPerFormat = 40;
    private const int FileBytes = 1 << 20;

    [Fact]
    public async Task Kill9DuringImport_Restart_ImportsExactlyOnceWithoutPartialFiles()
    {
        var root = Directory.CreateTempSubdirectory("recsync-kill-").FullName;
        try
        {
            var database = await infrastructure.CreateDatabaseAsync("reckill");
            foreach (var dir in new[] { "spool", "work", "published", "unpublished" })
            {
                Directory.CreateDirectory(Path.Combine(root, dir));
            }

            // Big enough (80 MiB) that the import is still running when the kill lands.
            const string recordId = "kill-me";
            var staging = Path.Combine(root, ".kill-me.tar");
            var entries = new List<(string, byte[]?)>();
            foreach (var format in TestArchives.Formats)
            {
                entries.Add(($"{format}/{recordId}/metadata.xml", System.Text.Encoding.UTF8.GetBytes(TestArchives.MetadataXml(recordId, format))));
                var body = TestArchives.Bytes(FileBytes);
                for (var i = 0; i < FilesPerFormat; i++)
                {
                    entries.Add(($"{format}/{recordId}/media/{i:D3}.bin", body));
                }
            }

            TestArchives.Write(staging, entries);
            var work = Path.Combine(root, "work");

            using (var first = Start(root, database))
            {
                File.Move(staging, Path.Combine(root, "spool", "kill-me.tar"));
                // Polled tightly, not with Eventually's backoff: on an idle machine the whole import can take less than
                // one backoff step, and the kill must land while it runs.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!Directory.EnumerateDirectories(work).Any() && !first.HasExited)
                {
                    Assert.True(DateTime.UtcNow < deadline, "the import did not begin within 60 s");
                    await Task.Delay(2);
                }

                ServiceProcesses.ThrowIfAllExited([first], "the import began");
                first.Kill();
                await first.WaitForExitAsync();
            }

            AssertNoPartialFormat(root, recordId);
            // Kept under the dead importer's claim, which the next importer takes over once it has expired.
            Assert.Single(Directory.EnumerateFiles(Path.Combine(root, "spool"), ".claim.*.kill-me.tar"));

            using var second = Start(root, database);
            try
            {
                // Finished means the archive is gone and the importer has removed its scratch directory after it.
                await Eventually.TrueAsync(
                    () => Task.FromResult(!Directory.EnumerateFiles(Path.Combine(root, "spool")).Any() && !Directory.EnumerateFileSystemEntries(work).Any()),
                    TimeSpan.FromSeconds(60), "the restarted importer finishes", [second]);
            }
            finally
            {
                second.Kill();
                await second.WaitForExitAsync();
            }

            await using var db = new Scalelite.Core.Persistence.ScaleliteDbContext(
                new DbContextOptionsBuilder<Scalelite.Core.Persistence.ScaleliteDbContext>().UseNpgsql(database).Options);
            Assert.Equal(1, await db.Set<Recording>().CountAsync(r => r.RecordId == recordId));
            Assert.Equal(2, await db.Set<PlaybackFormat>().CountAsync());
            Assert.Equal(1, await db.Set<RecordingImport>().CountAsync(i => i.Outcome == RecordingImport.Imported));
            foreach (var format in TestArchives.Formats)
            {
                Assert.Equal(FilesPerFormat + 1, TestArchives.FilesUnder(Path.Combine(root, "published", format, recordId)).Count);
            }

            Assert.Empty(Directory.EnumerateFileSystemEntries(work));
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root, "published"), ".*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void AssertNoPartialFormat(string root, string recordId)
    {
        foreach (var format in TestArchives.Formats)
        {
            var count = TestArchives.FilesUnder(Path.Combine(root, "published", format, recordId)).Count;
            Assert.True(count is 0 or FilesPerFormat + 1, $"{format} has {count} files after the kill");
        }
    }

    private Process Start(string root, string database)
    {
        var start = Repository.ServiceProcess("Scalelite.RecordingSync");
        start.Environment["ConnectionStrings__scalelite"] = database;
        start.Environment["ConnectionStrings__redis"] = infrastructure.CreateRedisConnectionString();
        start.Environment["Scalelite__Secrets"] = "kill-secret";
        start.Environment["Recording__SpoolDir"] = Path.Combine(root, "spool");
        start.Environment["Recording__WorkDir"] = Path.Combine(root, "work");
        start.Environment["Recording__PublishDir"] = Path.Combine(root, "published");
        start.Environment["Recording__UnpublishDir"] = Path.Combine(root, "unpublished");
        start.Environment["Recording__ImportSettleTime"] = "0";
        // The killed importer's claim and leftovers are another importer's to take over and sweep once this old.
        start.Environment["Recording__ImportClaimTimeout"] = "1";
        start.Environment["Recording__ImportPollInterval"] = "1";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return ServiceProcesses.Start(start);
    }
}
