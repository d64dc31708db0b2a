using System.Xml.Linq;
using Scalelite.Cli;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.RecordingSync;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Cli;

/// <summary><c>scalelite recordings reindex DIR</c> on recording trees on disk, checked through getRecordings.</summary>
public sealed class RecordingsReindexTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static void WriteFormat(string root, string format, string recordId, string? metadata = null, string meetingId = "reindexed", bool published = true)
    {
        var directory = Path.Combine(root, format, recordId);
        Directory.CreateDirectory(directory);
        if (metadata is not "")
        {
            File.WriteAllText(Path.Combine(directory, "metadata.xml"), metadata ?? TestArchives.MetadataXml(recordId, format, meetingId, published));
        }
    }

    private static async Task<(int Exit, string Out, string Err)> ReindexAsync(PoolHarness pool, string publish, string unpublish, params string[] args)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__scalelite"] = pool.Database,
            ["ConnectionStrings__redis"] = pool.Redis,
            ["RECORDING_PUBLISH_DIR"] = publish,
            ["RECORDING_UNPUBLISH_DIR"] = unpublish,
        };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await new CliApp(output, error, name => environment.GetValueOrDefault(name)).InvokeAsync(["recordings", "reindex", .. args]);
        return (exit, output.ToString(), error.ToString());
    }

    private static async Task<Dictionary<string, XElement>> RecordingsAsync(PoolHarness pool)
    {
        var response = await pool.Client.CallAsync("getRecordings", ("meetingID", "reindexed"), ("state", "any"));
        XmlAssert.Success(response);
        return response.Element("recordings")!.Elements("recording").ToDictionary(r => r.Element("recordID")!.Value);
    }

    [Fact]
    public async Task Reindex_PublishedAndUnpublishedTrees_IndexesWhatTheyHoldReportsWhatItCannotReadAndIsIdempotent()
    {
        var volume = Directory.CreateTempSubdirectory("scalelite-reindex-").FullName;
        try
        {
            var publish = Path.Combine(volume, "published");
            var unpublish = Path.Combine(volume, "unpublished");
            await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?>
            {
                ["Recording:PublishDir"] = publish,
                ["Recording:UnpublishDir"] = unpublish,
            });
            WriteFormat(publish, "presentation", "rec-a");
            WriteFormat(publish, "video", "rec-a");
            WriteFormat(publish, "presentation", "rec-b");
            WriteFormat(publish, "presentation", "rec-broken", "<recording><id>rec-broken</id>");
            WriteFormat(publish, "presentation", "rec-empty", metadata: "");
            WriteFormat(publish, "presentation", "rec-other", TestArchives.MetadataXml("rec-elsewhere", "presentation"));
            WriteFormat(publish, ".presentation.incoming.0001", "rec-a");
            Directory.CreateDirectory(Path.Combine(publish, "captions", "rec-a"));
            // BBB moved it to unpublished/ and its metadata.xml may still say published: the tree decides.
            WriteFormat(unpublish, "presentation", "rec-c", published: true);

            var run = await ReindexAsync(pool, publish, unpublish, publish);
            Assert.True(run.Exit == CliApp.Ok, run.Out + run.Err);
            Assert.Contains("2 recording(s) found: 2 added, 3 format(s) added, 0 unchanged, 0 deleted in the index (left alone), 3 unreadable", run.Out, StringComparison.Ordinal);
            Assert.Contains("rec-broken: metadata.xml is not well-formed XML", run.Out, StringComparison.Ordinal);
            Assert.Contains("rec-empty: no metadata.xml", run.Out, StringComparison.Ordinal);
            Assert.Contains("rec-other: metadata.xml describes presentation/rec-elsewhere", run.Out, StringComparison.Ordinal);
            run = await ReindexAsync(pool, publish, unpublish, unpublish);
            Assert.Contains("1 recording(s) found: 1 added, 1 format(s) added", run.Out, StringComparison.Ordinal);

            var recordings = await RecordingsAsync(pool);
            Assert.Equal(["rec-a", "rec-b", "rec-c"], recordings.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(["presentation", "video"], recordings["rec-a"].Element("playback")!.Elements("format").Select(f => f.Element("type")!.Value));
            Assert.Equal("true", recordings["rec-a"].Element("published")!.Value);
            Assert.Equal("Greenlight", recordings["rec-a"].Element("metadata")!.Element("bbb-origin")!.Value);
            Assert.Equal(("false", "unpublished"), (recordings["rec-c"].Element("published")!.Value, recordings["rec-c"].Element("state")!.Value));

            // The LMS changes a recording; a later reindex adds a format that arrived, and nothing else.
            XmlAssert.Success(await pool.Client.CallAsync("updateRecordings", ("recordID", "rec-b"), ("meta_bbb-origin", "changed by the LMS")));
            WriteFormat(publish, "podcast", "rec-b");
            run = await ReindexAsync(pool, publish, unpublish, publish);
            Assert.Contains("2 recording(s) found: 0 added, 1 format(s) added, 1 unchanged", run.Out, StringComparison.Ordinal);
            var rec = (await RecordingsAsync(pool))["rec-b"];
            Assert.Equal(["podcast", "presentation"], rec.Element("playback")!.Elements("format").Select(f => f.Element("type")!.Value));
            Assert.Equal("changed by the LMS", rec.Element("metadata")!.Element("bbb-origin")!.Value);

            var before = await RecordingsAsync(pool);
            run = await ReindexAsync(pool, publish, unpublish, publish);
            Assert.Contains("2 recording(s) found: 0 added, 0 format(s) added, 2 unchanged", run.Out, StringComparison.Ordinal);
            Assert.Equal(before.Values.Select(r => r.ToString()), (await RecordingsAsync(pool)).Values.Select(r => r.ToString()));
        }
        finally
        {
            Directory.Delete(volume, recursive: true);
        }
    }

    [Fact]
    public async Task Reindex_DryRun_ReportsAndAddsNothing()
    {
        var volume = Directory.CreateTempSubdirectory("scalelite-reindex-").FullName;
        try
        {
            await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
            var tree = Path.Combine(volume, "bbb-published");
            WriteFormat(tree, "presentation", "rec-dry");

            var run = await ReindexAsync(pool, Path.Combine(volume, "published"), Path.Combine(volume, "unpublished"), tree, "--dry-run");
            Assert.True(run.Exit == CliApp.Ok, run.Out + run.Err);
            Assert.Contains("neither RECORDING_PUBLISH_DIR", run.Out, StringComparison.Ordinal);
            Assert.Contains("1 recording(s) found: 1 to add", run.Out, StringComparison.Ordinal);
            Assert.Empty(await RecordingsAsync(pool));

            var missing = await ReindexAsync(pool, Path.Combine(volume, "published"), Path.Combine(volume, "unpublished"), Path.Combine(volume, "nowhere"));
            Assert.Equal(CliApp.Failed, missing.Exit);
            Assert.Contains("is not a directory", missing.Err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(volume, recursive: true);
        }
    }
}
