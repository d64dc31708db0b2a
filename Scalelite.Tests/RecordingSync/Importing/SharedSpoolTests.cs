using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Importing;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.RecordingSync.Importing;

/// <summary>Two real RecordingSync processes on one spool; one is killed with SIGKILL in the middle of an import.</summary>
public sealed class SharedSpoolTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const string Secret = "shared-spool-secret";
    private const int SmallArchives = 40;

    [Fact]
    public async Task TwoImporters_OneKilledMidImport_EachArchiveImportedOnceAndEachCallbackSentOnce()
    {
        var root = Directory.CreateTempSubdirectory("recsync-shared-").FullName;
        var received = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var lmsBuilder = WebApplication.CreateSlimBuilder();
        lmsBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        lmsBuilder.Logging.ClearProviders();
        await using var lms = lmsBuilder.Build();
        lms.MapPost("/ready", async (HttpContext context) =>
        {
            var jwt = (await context.Request.ReadFormAsync())["signed_parameters"].ToString().Split('.');
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[1]));
            received.AddOrUpdate(payload.RootElement.GetProperty("record_id").GetString()!, 1, (_, n) => n + 1);
            return Results.Ok();
        });
        await lms.StartAsync();
        var lmsUrl = lms.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/ready";

        var importers = new List<Process>();
        try
        {
            var database = await infrastructure.CreateDatabaseAsync("recshared");
            foreach (var dir in new[] { "spool", "work", "published", "unpublished" })
            {
                Directory.CreateDirectory(Path.Combine(root, dir));
            }

            var recordIds = Enumerable.Range(0, SmallArchives).Select(i => $"shared-{i:D2}").Append("shared-big").ToList();
            await using (var db = Db(database))
            {
                await db.Database.MigrateAsync();
                foreach (var recordId in recordIds)
                {
                    db.Add(new Callback { MeetingId = "m-" + recordId, Kind = CallbackStatus.RecordingReady, Url = lmsUrl, Status = CallbackStatus.Captured });
                }

                await db.SaveChangesAsync();
            }

            importers.Add(Start(root, database));
            importers.Add(Start(root, database));
            var spool = Path.Combine(root, "spool");
            foreach (var recordId in recordIds.Take(SmallArchives))
            {
                var staging = Path.Combine(spool, $".{recordId}.tmp");
                TestArchives.WriteRecording(staging, recordId, meetingId: "m-" + recordId);
                File.Move(staging, Path.Combine(spool, recordId + ".tar"));
            }

            // Big enough (80 MiB) that its import is still running when the kill lands.
            var bigStaging = Path.Combine(spool, ".shared-big.tmp");
            TestArchives.WriteRecording(bigStaging, "shared-big", mediaBytes: 40 << 20, meetingId: "m-shared-big");
            File.Move(bigStaging, Path.Combine(spool, "shared-big.tar"));

            // Polled tightly: the kill must land while the big archive's import runs.
            var holder = 0;
            var deadline = Stopwatch.StartNew();
            while (holder == 0)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(120), "nobody began importing the big archive within 120 s");
                var claim = Directory.EnumerateFiles(spool, ".claim.*shared-big.tar").Select(Path.GetFileName).FirstOrDefault();
                if (claim is not null && ArchiveClaim.TryParse(claim, out _, out var instance, out _)
                    && Directory.EnumerateDirectories(Path.Combine(root, "work"), ".shared-big.tar.*").Any())
                {
                    holder = int.Parse(instance[(instance.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
                }

                await Task.Delay(2);
            }

            var victim = importers.Single(p => p.Id == holder);
            victim.Kill();
            await victim.WaitForExitAsync();
            Assert.True(Directory.EnumerateFiles(spool, ".claim.*shared-big.tar").Any(), "the killed importer's claim is left in the spool");

            await Eventually.TrueAsync(
                () => Task.FromResult(!Directory.EnumerateFileSystemEntries(spool).Any(e => !Path.GetFileName(e).StartsWith('.') || Path.GetFileName(e).StartsWith(".claim.", StringComparison.Ordinal))),
                TimeSpan.FromSeconds(120), "the surviving importer empties the spool, the abandoned claim included", importers);
            try
            {
                await Eventually.TrueAsync(async () =>
                {
                    await using var db = Db(database);
                    return await db.Set<Callback>().CountAsync(c => c.Status == CallbackStatus.Delivered) == recordIds.Count;
                }, TimeSpan.FromSeconds(120), "every callback is delivered", importers);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await using var db = Db(database);
                var states = await db.Set<Callback>().GroupBy(c => c.Status + " " + c.LastError).Select(g => g.Key + ": " + g.Count()).ToListAsync();
                Assert.Fail($"{e.Message} Callbacks: {string.Join("; ", states)}; recordings {await db.Set<Recording>().CountAsync()}");
            }

            await using (var db = Db(database))
            {
                foreach (var recordId in recordIds)
                {
                    Assert.Equal(1, await db.Set<Recording>().CountAsync(r => r.RecordId == recordId));
                    Assert.Equal(1, await db.Set<RecordingImport>().CountAsync(i => i.RecordId == recordId && i.Outcome == RecordingImport.Imported));
                    Assert.InRange(received.GetValueOrDefault(recordId), 1, 2);
                }
            }

            // Delivery is at least once across a crash: the one delivery the killed importer may have POSTed before it
            // could record it is sent again by the survivor once its lease has passed. Every other is sent once.
            Assert.True(received.Values.Count(n => n > 1) <= 1, $"callbacks sent twice: {string.Join(", ", received.Where(r => r.Value > 1).Select(r => r.Key))}");

            Assert.Equal(recordIds.Count, received.Count);
            foreach (var format in TestArchives.Formats)
            {
                Assert.True(Directory.Exists(Path.Combine(root, "published", format, "shared-big")));
            }
        }
        finally
        {
            foreach (var importer in importers)
            {
                if (!importer.HasExited)
                {
                    importer.Kill();
                    await importer.WaitForExitAsync();
                }

                importer.Dispose();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static ScaleliteDbContext Db(string database) =>
        new(new DbContextOptionsBuilder<ScaleliteDbContext>().UseNpgsql(database).Options);

    private Process Start(string root, string database)
    {
        var start = Repository.ServiceProcess("Scalelite.RecordingSync");
        start.Environment["ConnectionStrings__scalelite"] = database;
        start.Environment["ConnectionStrings__redis"] = infrastructure.CreateRedisConnectionString();
        start.Environment["Scalelite__Secrets"] = Secret;
        start.Environment["Recording__SpoolDir"] = Path.Combine(root, "spool");
        start.Environment["Recording__WorkDir"] = Path.Combine(root, "work");
        start.Environment["Recording__PublishDir"] = Path.Combine(root, "published");
        start.Environment["Recording__UnpublishDir"] = Path.Combine(root, "unpublished");
        start.Environment["Recording__ImportSettleTime"] = "0";
        start.Environment["Recording__ImportPollInterval"] = "1";
        start.Environment["Recording__ImportClaimTimeout"] = "3";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return ServiceProcesses.Start(start);
    }
}
