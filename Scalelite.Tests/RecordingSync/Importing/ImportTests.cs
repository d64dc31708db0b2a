using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Importing;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.RecordingSync.Importing;

/// <summary>The importer against real PostgreSQL and a real directory tree.</summary>
public sealed class ImportTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Import_ProtectedRecordingsEnabled_NewRecordingIsProtectedAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true, new Dictionary<string, string?> { ["Recording:ProtectedRecordingsEnabled"] = "true" });
        var created = await pool.Client.CallAsync("create", ("meetingID", "rec-protected"), ("name", "Protected"), ("record", "true"));
        XmlAssert.Success(created);
        var recordId = created.Element("internalMeetingID")!.Value;
        var sim = pool.Simulators.Servers[0];

        using var produced = await pool.Client.Http.PostAsync($"{sim.ControlUrl}/recordings/rec-protected?spool={Uri.EscapeDataString(sync.Spool)}&formats=presentation", null);
        Assert.Equal(HttpStatusCode.OK, produced.StatusCode);

        Recording? recording = null;
        await Eventually.TrueAsync(async () => (recording = await sync.RecordingAsync(recordId)) is not null, Deadline, "the recording is indexed");
        Assert.True(recording!.Protected);
    }

    [Fact]
    public async Task SimulatorRecording_DroppedInSpool_IsIndexedWithEveryFieldAndFilesPublished()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true);
        var created = await pool.Client.CallAsync("create", ("meetingID", "rec-e2e"), ("name", "Physics 101"), ("record", "true"), ("meta_bbb-origin", "Moodle"), ("meta_course", "phy"));
        XmlAssert.Success(created);
        var recordId = created.Element("internalMeetingID")!.Value;
        var sim = pool.Simulators.Servers[0];

        using var produced = await pool.Client.Http.PostAsync(
            $"{sim.ControlUrl}/recordings/rec-e2e?spool={Uri.EscapeDataString(sync.Spool)}&size=300000&thumbnails=2", null);
        Assert.Equal(HttpStatusCode.OK, produced.StatusCode);

        Recording? recording = null;
        await Eventually.TrueAsync(async () => (recording = await sync.RecordingAsync(recordId)) is not null, Deadline, "the recording is indexed");
        await Eventually.TrueAsync(() => Task.FromResult(!Directory.EnumerateFiles(sync.Spool).Any()), Deadline, "the archive is removed");
        Assert.NotNull(recording);
        Assert.Equal("rec-e2e", recording.MeetingId);
        Assert.Equal(recordId, recording.InternalMeetingId);
        Assert.Equal("Physics 101", recording.Name);
        Assert.True(recording.Published);
        Assert.Equal(RecordingState.Published, recording.State);
        Assert.False(recording.IsBreakout);
        Assert.True(recording.EndTime >= recording.StartTime);
        Assert.Equal(1, recording.Participants);
        Assert.Equal(900000, recording.RawSize);
        var meta = recording.Metadata.ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal("Moodle", meta["bbb-origin"]);
        Assert.Equal("phy", meta["course"]);
        Assert.Equal("Physics 101", meta["meetingName"]);
        Assert.Equal("rec-e2e", meta["meetingId"]);
        Assert.Equal(["podcast", "presentation", "video"], recording.Formats.Select(f => f.Format).Order(StringComparer.Ordinal));
        var presentation = recording.Formats.Single(f => f.Format == "presentation");
        Assert.Equal($"http://127.0.0.1:{sim.Port}/playback/presentation/2.3/{recordId}", presentation.Url);
        Assert.Equal(100000, presentation.Size);
        Assert.True(presentation.ProcessingTime > 0);
        Assert.Equal(2, presentation.Thumbnails.Count);
        Assert.All(presentation.Thumbnails, t => Assert.Equal((176, 136), (t.Width, t.Height)));
        Assert.Equal(["Slide 1", "Slide 2"], presentation.Thumbnails.OrderBy(t => t.Sequence).Select(t => t.Alt));
        foreach (var format in new[] { "presentation", "video", "podcast" })
        {
            var dir = Path.Combine(sync.Published, format, recordId);
            Assert.True(File.Exists(Path.Combine(dir, "metadata.xml")), $"{format} metadata.xml published");
        }

        Assert.Equal(100000, new FileInfo(Path.Combine(sync.Published, "podcast", recordId, "audio.ogg")).Length);
        Assert.True(File.Exists(Path.Combine(sync.Published, "presentation", recordId, "presentation", $"d2d9a672040fbde2a47a10bf6c37b6a4b5ae187f-{sim.GetMeetings()[0].CreateTime}", "thumbnails", "thumb-2.png")));
        await using var db = await sync.DbAsync();
        var log = await db.Set<RecordingImport>().SingleAsync();
        Assert.Equal((RecordingImport.Imported, recordId), (log.Outcome, log.RecordId));
        Assert.Empty(sync.StagingLeftovers());
        Assert.Empty(Directory.EnumerateFileSystemEntries(sync.Work));
    }

    [Fact]
    public async Task ImportAsync_SameArchiveTwice_OneRecordingUpdatedInPlace()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        var importer = sync.NewImporter();
        var archive = Path.Combine(sync.Spool, "r-twice.tar");

        TestArchives.WriteRecording(archive, "r-twice");
        Assert.Equal(ImportOutcome.Imported, await importer.ImportAsync(archive, CancellationToken.None));
        TestArchives.WriteRecording(archive, "r-twice", mediaBytes: 777);
        Assert.Equal(ImportOutcome.Imported, await importer.ImportAsync(archive, CancellationToken.None));

        await using var db = await sync.DbAsync();
        Assert.Equal(1, await db.Set<Recording>().CountAsync(r => r.RecordId == "r-twice"));
        var recording = await sync.RecordingAsync("r-twice");
        Assert.Equal(2, recording!.Formats.Count);
        Assert.Equal(5, recording.Metadata.Count);
        Assert.Equal(777, new FileInfo(Path.Combine(sync.Published, "video", "r-twice", "media.bin")).Length);
        Assert.Empty(sync.StagingLeftovers());
    }

    [Fact]
    public async Task ImportAsync_UnpublishedRecording_GoesToUnpublishedTree()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        var archive = Path.Combine(sync.Spool, "r-unpub.tar");
        TestArchives.WriteRecording(archive, "r-unpub", published: false);

        Assert.Equal(ImportOutcome.Imported, await sync.NewImporter().ImportAsync(archive, CancellationToken.None));

        var recording = await sync.RecordingAsync("r-unpub");
        Assert.False(recording!.Published);
        Assert.Equal(RecordingState.Unpublished, recording.State);
        Assert.True(Directory.Exists(Path.Combine(sync.Unpublished, "presentation", "r-unpub")));
        Assert.False(Directory.Exists(Path.Combine(sync.Published, "presentation", "r-unpub")));
    }

    [Fact]
    public async Task ImportAsync_LateFormatAfterUnpublish_JoinsTheRecordingUnpublished()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        var importer = sync.NewImporter();
        var archive = Path.Combine(sync.Spool, "r-late.tar");
        TestArchives.WriteRecording(archive, "r-late", formats: ["presentation"]);
        Assert.Equal(ImportOutcome.Imported, await importer.ImportAsync(archive, CancellationToken.None));

        // The LMS unpublishes it (as publishRecordings does: files moved, then the index).
        Directory.CreateDirectory(Path.Combine(sync.Unpublished, "presentation"));
        Directory.Move(Path.Combine(sync.Published, "presentation", "r-late"), Path.Combine(sync.Unpublished, "presentation", "r-late"));
        await using (var db = await sync.DbAsync())
        {
            var row = await db.Set<Recording>().SingleAsync(r => r.RecordId == "r-late");
            row.Published = false;
            row.State = RecordingState.Unpublished;
            db.Add(new RecordingMetadata { RecordingId = row.Id, Key = "lms-note", Value = "kept" });
            await db.SaveChangesAsync();
        }

        TestArchives.WriteRecording(archive, "r-late", formats: ["video"]);
        Assert.Equal(ImportOutcome.Imported, await importer.ImportAsync(archive, CancellationToken.None));

        var recording = await sync.RecordingAsync("r-late");
        Assert.Equal(RecordingState.Unpublished, recording!.State);
        Assert.Equal(["presentation", "video"], recording.Formats.Select(f => f.Format).Order());
        Assert.Contains(recording.Metadata, m => m.Key == "lms-note");
        Assert.True(Directory.Exists(Path.Combine(sync.Unpublished, "video", "r-late")));
        Assert.False(Directory.Exists(Path.Combine(sync.Published, "video", "r-late")));
        Assert.True(Directory.Exists(Path.Combine(sync.Unpublished, "presentation", "r-late")));
    }

    [Fact]
    public async Task ImportAsync_LateFormatAfterDelete_DoesNotBringItBack()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        var importer = sync.NewImporter();
        var archive = Path.Combine(sync.Spool, "r-gone.tar");
        TestArchives.WriteRecording(archive, "r-gone", formats: ["presentation"]);
        Assert.Equal(ImportOutcome.Imported, await importer.ImportAsync(archive, CancellationToken.None));

        Directory.Delete(Path.Combine(sync.Published, "presentation", "r-gone"), recursive: true);
        await using (var db = await sync.DbAsync())
        {
            var row = await db.Set<Recording>().SingleAsync(r => r.RecordId == "r-gone");
            row.Published = false;
            row.State = RecordingState.Deleted;
            row.DeletedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }

        TestArchives.WriteRecording(archive, "r-gone", formats: ["video"]);
        await importer.ImportAsync(archive, CancellationToken.None);

        var recording = await sync.RecordingAsync("r-gone");
        Assert.Equal(RecordingState.Deleted, recording!.State);
        Assert.False(Directory.Exists(Path.Combine(sync.Published, "video", "r-gone")));
        Assert.False(Directory.Exists(Path.Combine(sync.Unpublished, "video", "r-gone")));
        Assert.False(File.Exists(archive));
        Assert.Empty(sync.StagingLeftovers());
    }

    public static TheoryData<ImportStep> Steps => [.. Enum.GetValues<ImportStep>()];

    /// <summary>A crash (an exception thrown by the probe, the process goes on no further) at each step, then a new importer.</summary>
    [Theory]
    [MemberData(nameof(Steps))]
    public async Task ImportAsync_CrashAtStep_NoPartialFilesAndRetryImportsExactlyOnce(ImportStep step)
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        var recordId = $"crash-{step}".ToLowerInvariant();
        var archive = Path.Combine(sync.Spool, recordId + ".tar");
        TestArchives.WriteRecording(archive, recordId);

        await Assert.ThrowsAsync<SimulatedCrashException>(() => sync.NewImporter(new CrashAt(step)).ImportAsync(archive, CancellationToken.None));

        // Whatever is visible now is complete: a format directory has every file or does not exist.
        foreach (var format in TestArchives.Formats)
        {
            var files = TestArchives.FilesUnder(Path.Combine(sync.Published, format, recordId));
            Assert.True(files.Count == 0 || files.SequenceEqual(TestArchives.FilesPerFormat.Order(StringComparer.Ordinal)), $"{format}: {string.Join(", ", files)}");
        }

        var committed = step >= ImportStep.Committed;
        Assert.Equal(committed, await sync.RecordingAsync(recordId) is not null);

        var restarted = sync.NewImporter();
        sync.Files.SweepLeftovers();
        if (File.Exists(archive))
        {
            Assert.Equal(ImportOutcome.Imported, await restarted.ImportAsync(archive, CancellationToken.None));
        }

        Assert.False(File.Exists(archive));
        await using var db = await sync.DbAsync();
        Assert.Equal(1, await db.Set<Recording>().CountAsync(r => r.RecordId == recordId));
        Assert.Equal(1, await db.Set<RecordingImport>().CountAsync(i => i.RecordId == recordId && i.Outcome == RecordingImport.Imported));
        Assert.Equal(2, (await sync.RecordingAsync(recordId))!.Formats.Count);
        foreach (var format in TestArchives.Formats)
        {
            Assert.Equal(TestArchives.FilesPerFormat.Order(StringComparer.Ordinal), TestArchives.FilesUnder(Path.Combine(sync.Published, format, recordId)));
        }

        Assert.Empty(sync.StagingLeftovers());
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "truncated", "truncated" },
        { "malformed-xml", "not well-formed" },
        { "traversal", "'..'" },
        { "no-metadata", "no metadata.xml" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Spool_MalformedArchive_SetAsideWithReasonAndNothingWrittenOutside(string kind, string reasonPart)
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true);
        var staging = Path.Combine(sync.Root, $".{kind}.tar");
        var xml = Encoding.UTF8.GetBytes(TestArchives.MetadataXml("r-bad", "presentation"));
        switch (kind)
        {
            case "truncated":
                TestArchives.WriteRecording(staging, "r-bad", mediaBytes: 20000);
                using (var file = new FileStream(staging, FileMode.Open))
                {
                    file.SetLength(file.Length / 2);
                }

                break;
            case "malformed-xml":
                TestArchives.Write(staging, [("presentation/r-bad/metadata.xml", Encoding.UTF8.GetBytes("<recording><id>r-bad</id><meeting"))]);
                break;
            case "traversal":
                TestArchives.Write(staging, [("presentation/r-bad/metadata.xml", xml), ("presentation/r-bad/../../../../escaped.txt", Encoding.UTF8.GetBytes("gotcha"))]);
                break;
            default:
                TestArchives.Write(staging, [("presentation/r-bad/media.bin", TestArchives.Bytes(10))]);
                break;
        }

        var name = $"{kind}.tar";
        File.Move(staging, Path.Combine(sync.Spool, name));

        var reasonFile = Path.Combine(sync.Failed, name + ".reason.txt");
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(Path.Combine(sync.Failed, name)) && File.Exists(reasonFile)), Deadline, "the archive is set aside");
        Assert.Contains(reasonPart, await File.ReadAllTextAsync(reasonFile), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(sync.Spool, name)));
        await Eventually.TrueAsync(async () =>
        {
            await using var db = await sync.DbAsync();
            return await db.Set<RecordingImport>().AnyAsync(i => i.Archive == name && i.Outcome == RecordingImport.Failed && i.Reason!.Contains(reasonPart));
        }, Deadline, "the failure is recorded in recording_imports");
        Assert.Empty(sync.EntriesOutsideTargets());
        Assert.Empty(TestArchives.FilesUnder(sync.Published));
        Assert.Null(await sync.RecordingAsync("r-bad"));
        await Eventually.TrueAsync(() => Task.FromResult(!Directory.EnumerateFileSystemEntries(sync.Work).Any()), Deadline, "the work directory is cleaned");
    }

    [Fact]
    public async Task Spool_DotFileAndTemporaryName_AreNotPickedUp()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true);
        TestArchives.WriteRecording(Path.Combine(sync.Spool, ".r-dot.tar"), "r-dot");
        TestArchives.WriteRecording(Path.Combine(sync.Spool, "r-tmp.tar.tmp"), "r-tmp");
        TestArchives.WriteRecording(Path.Combine(sync.Spool, "r-real.tar"), "r-real");

        await Eventually.TrueAsync(async () => await sync.RecordingAsync("r-real") is not null, Deadline, "the complete archive is imported");

        Assert.Null(await sync.RecordingAsync("r-dot"));
        Assert.Null(await sync.RecordingAsync("r-tmp"));
        Assert.True(File.Exists(Path.Combine(sync.Spool, ".r-dot.tar")));
        Assert.True(File.Exists(Path.Combine(sync.Spool, "r-tmp.tar.tmp")));
    }

    [Fact]
    public async Task Spool_ManyArchives_AllImportedInParallel()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true, new Dictionary<string, string?> { ["Recording:ImportParallelism"] = "4" });
        for (var i = 0; i < 12; i++)
        {
            var staging = Path.Combine(sync.Root, $".p{i}.tar");
            TestArchives.WriteRecording(staging, $"par-{i.ToString(CultureInfo.InvariantCulture)}");
            File.Move(staging, Path.Combine(sync.Spool, $"par-{i}.tar"));
        }

        await Eventually.TrueAsync(async () =>
        {
            await using var db = await sync.DbAsync();
            return await db.Set<Recording>().CountAsync() == 12;
        }, Deadline, "all twelve recordings are indexed");
        await Eventually.TrueAsync(() => Task.FromResult(!Directory.EnumerateFiles(sync.Spool).Any()), Deadline, "every archive is removed");
    }

    private sealed class SimulatedCrashException(string message) : Exception(message);

    private sealed class CrashAt(ImportStep step) : IImportProbe
    {
        private bool _crashed;

        public void At(ImportStep at, string recordId)
        {
            if (at == step && !_crashed)
            {
                _crashed = true;
                throw new SimulatedCrashException($"crash at {at}");
            }
        }
    }
}
