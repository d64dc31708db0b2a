using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Monitoring.Checks;
using Scalelite.RecordingSync.Importing;
using Scalelite.RecordingSync.Monitoring;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.RecordingSync.Monitoring;

/// <summary>
/// The recording alerts end to end: RecordingSync probes and reports its real directories, the poller's checks judge
/// the report. Each fault is induced, seen raised with its subject, removed, and seen cleared.
/// </summary>
public sealed class RecordingAlertTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private sealed class Rig(RecordingSyncHarness sync, StaticOptionsMonitor<AlertOptions> options, AlertEvaluator evaluator) : IAsyncDisposable
    {
        public RecordingSyncHarness Sync { get; } = sync;

        public StaticOptionsMonitor<AlertOptions> Options { get; } = options;

        public MonitoringStore Store => Sync.Host.Services.GetRequiredService<MonitoringStore>();

        /// <summary>The poller's evaluator runs on the report as it stands.</summary>
        public Task<IReadOnlyList<ActiveAlert>> EvaluateAsync() => evaluator.EvaluateAsync(CancellationToken.None);

        /// <summary>RecordingSync reports, then the poller's evaluator runs.</summary>
        public async Task<IReadOnlyList<ActiveAlert>> ReportAndEvaluateAsync()
        {
            await Sync.Host.Services.GetRequiredService<RecordingMonitor>().ReportAsync(CancellationToken.None);
            return await evaluator.EvaluateAsync(CancellationToken.None);
        }

        public async Task<ActiveAlert> RaisedAsync(string alert, string subject)
        {
            ActiveAlert? found = null;
            await Eventually.TrueAsync(async () => (found = (await ReportAndEvaluateAsync()).FirstOrDefault(a => a.Alert == alert && a.Subject == subject)) is not null,
                Deadline, $"{alert} is raised for {subject}");
            return found!;
        }

        public Task ClearedAsync(string alert, string subject) =>
            Eventually.TrueAsync(async () => !(await ReportAndEvaluateAsync()).Any(a => a.Alert == alert && a.Subject == subject), Deadline, $"{alert} clears for {subject}");

        public async ValueTask DisposeAsync()
        {
            evaluator.Dispose();
            await Sync.DisposeAsync();
        }
    }

    /// <summary>RecordingSync with its importer paused (not watching the spool), and an evaluator with the recording checks.</summary>
    private async Task<Rig> StartAsync()
    {
        var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false, settings: new Dictionary<string, string?>
        {
            ["Alerts:RecordingProbeTimeout"] = "5",
        });
        var options = new StaticOptionsMonitor<AlertOptions>(new AlertOptions { ClearAfter = 0, RecordingProbeTimeout = 5 });
        var store = sync.Host.Services.GetRequiredService<MonitoringStore>();
        var evaluator = new AlertEvaluator([new RecordingChecks(store, options, TimeProvider.System)], store, options, TimeProvider.System,
            NullLogger<AlertEvaluator>.Instance);
        return new Rig(sync, options, evaluator);
    }

    [Fact]
    public async Task RecordingVolume_DirectoryMissing_RaisedForItAndClearedWhenBack()
    {
        await using var rig = await StartAsync();
        var directory = rig.Sync.Unpublished;
        Directory.Move(directory, directory + ".away");

        var alert = await rig.RaisedAsync(AlertIds.RecordingVolume, AlertIds.Directory(directory));
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Contains("missing", alert.Message, StringComparison.Ordinal);

        Directory.Move(directory + ".away", directory);
        await rig.ClearedAsync(AlertIds.RecordingVolume, AlertIds.Directory(directory));
    }

    [SkippableFact]
    public async Task RecordingVolume_ReadOnlyMount_RaisedAsNotWritableAndCleared()
    {
        // Root writes through any permission bits; only a read-only file system refuses it.
        Skip.IfNot(Environment.UserName == "root" && File.Exists("/bin/mount"), "mounting a read-only tmpfs needs root");
        await using var rig = await StartAsync();
        var directory = rig.Sync.Published;
        Run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", directory);
        try
        {
            var alert = await rig.RaisedAsync(AlertIds.RecordingVolume, AlertIds.Directory(directory));
            Assert.Contains("not writable", alert.Message, StringComparison.Ordinal);
        }
        finally
        {
            Run("umount", "-l", directory);
        }

        await rig.ClearedAsync(AlertIds.RecordingVolume, AlertIds.Directory(directory));
    }

    [Fact]
    public async Task RecordingVolume_FreeSpaceThresholdAboveWhatIsFree_RaisedAndClearedWhenLowered()
    {
        await using var rig = await StartAsync();
        rig.Options.CurrentValue = new AlertOptions { ClearAfter = 0, RecordingMinFreePercent = 100 };

        var alert = await rig.RaisedAsync(AlertIds.RecordingVolume, AlertIds.Directory(rig.Sync.Spool));
        Assert.Equal(100, alert.Threshold);
        Assert.True(alert.Value < 100);

        rig.Options.CurrentValue = new AlertOptions { ClearAfter = 0, RecordingMinFreePercent = 0 };
        await rig.ClearedAsync(AlertIds.RecordingVolume, AlertIds.Directory(rig.Sync.Spool));
    }

    [Fact]
    public async Task RecordingImportDelay_ArchiveLeftInTheSpoolWithImportPaused_RaisedAndClearedOnceImported()
    {
        await using var rig = await StartAsync();
        rig.Options.CurrentValue = new AlertOptions { ClearAfter = 0, ImportBacklogAge = 1 };
        var archive = Path.Combine(rig.Sync.Spool, "r-waiting.tar");
        TestArchives.WriteRecording(archive, "r-waiting");

        var alert = await rig.RaisedAsync(AlertIds.RecordingImportDelay, AlertIds.Directory(rig.Sync.Spool));
        Assert.True(alert.Value > 1);
        Assert.Contains("1 archive(s) wait", alert.Message, StringComparison.Ordinal);

        Assert.Equal(ImportOutcome.Imported, await rig.Sync.NewImporter().ImportAsync(archive, CancellationToken.None));
        await rig.ClearedAsync(AlertIds.RecordingImportDelay, AlertIds.Directory(rig.Sync.Spool));
    }

    [Fact]
    public async Task RecordingImportDelay_RecordingSyncStopsReporting_RaisedAndClearedByTheNextReport()
    {
        await using var rig = await StartAsync();
        var report = await rig.Sync.Host.Services.GetRequiredService<RecordingMonitor>().ReportAsync(CancellationToken.None);
        // The last report RecordingSync made before it stopped, an hour ago.
        await rig.Store.ReportAsync(RecordingReport.Source, report, DateTimeOffset.UtcNow.AddHours(-1), CancellationToken.None);

        var stale = await rig.EvaluateAsync();
        Assert.Contains(stale, a => a.Alert == AlertIds.RecordingImportDelay && a.Subject == AlertIds.Component("recordingsync") && a.Severity == AlertSeverity.Critical);

        await rig.ClearedAsync(AlertIds.RecordingImportDelay, AlertIds.Component("recordingsync"));
    }

    [Fact]
    public async Task RecordingQuarantine_MalformedArchiveSetAside_RaisedAndClearedWhenRemoved()
    {
        await using var rig = await StartAsync();
        var archive = Path.Combine(rig.Sync.Spool, "r-broken.tar");
        await File.WriteAllTextAsync(archive, "not a tar archive");
        Assert.Equal(ImportOutcome.Rejected, await rig.Sync.NewImporter().ImportAsync(archive, CancellationToken.None));

        var subject = AlertIds.Directory(rig.Sync.Failed);
        var alert = await rig.RaisedAsync(AlertIds.RecordingQuarantine, subject);
        Assert.Equal(1, alert.Value);

        Directory.Delete(rig.Sync.Failed, recursive: true);
        await rig.ClearedAsync(AlertIds.RecordingQuarantine, subject);
    }

    [Fact]
    public async Task VolumeProbe_ProbeHangs_AnswersNotAnsweringWithinTheTimeoutAndStartsNoSecondProbe()
    {
        var probe = new VolumeProbe(TimeProvider.System);
        using var release = new ManualResetEventSlim();
        var started = 0;
        DirectoryReport Hang(string name, string path)
        {
            Interlocked.Increment(ref started);
            release.Wait();
            return new DirectoryReport(name, path, DirectoryStatus.Ok, null, 50, 50, 1, 1, 0);
        }

        var clock = Stopwatch.StartNew();
        var first = await probe.DirectoryAsync("published", "/mnt/lost", TimeSpan.FromMilliseconds(300), Hang);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the caller waits for the timeout, not for the mount");
        Assert.Equal(DirectoryStatus.NotAnswering, first.Status);

        var second = await probe.DirectoryAsync("published", "/mnt/lost", TimeSpan.FromMilliseconds(300), Hang);
        Assert.Equal(DirectoryStatus.NotAnswering, second.Status);
        Assert.Equal(1, Volatile.Read(ref started));

        release.Set();
        await Eventually.TrueAsync(async () =>
            (await probe.DirectoryAsync("published", "/mnt/lost", TimeSpan.FromSeconds(5), Hang)).Status == DirectoryStatus.Ok, Deadline, "the mount answers again");
    }

    [Fact]
    public async Task RecordingChecks_DirectoryNotAnswering_RaisedCritical()
    {
        await using var rig = await StartAsync();
        var lost = new DirectoryReport("published", "/mnt/lost", DirectoryStatus.NotAnswering, "no answer for 12 s", null, null, null, null, 12);
        await rig.Store.ReportAsync(RecordingReport.Source, new RecordingReport([lost], rig.Sync.Spool, 0, null, 0, null, 0, 30), DateTimeOffset.UtcNow, CancellationToken.None);

        var alert = Assert.Single(await rig.EvaluateAsync(), a => a.Subject == AlertIds.Directory("/mnt/lost"));
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Contains("hung NFS mount", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ListedP95_SamplesOfTheLastHour_NinetyFifthPercentile()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new RecordingSyncMetrics(meters.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var now = DateTimeOffset.UtcNow;
        metrics.Listed(now.AddHours(-2), TimeSpan.FromSeconds(99999));
        for (var i = 1; i <= 100; i++)
        {
            metrics.Listed(now, TimeSpan.FromSeconds(i));
        }

        Assert.Equal((95.0, 100), metrics.ListedP95(now));
    }

    private static void Run(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)}: {error}");
    }
}
