using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Persistence;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Importing;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.RecordingSync.Importing;

/// <summary>Imports when the recording volume fails for a while: a full disk, a temporary error, and the retry.</summary>
public sealed class VolumeFailureTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task ImportAsync_PublishVolumeFull_LeavesNoPartialCopyAndTheRetryImportsOnceThereIsSpace()
    {
        Skip.IfNot(Environment.UserName == "root" && File.Exists("/bin/mount"), "mounting a small tmpfs needs root");
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        // The work directory stays on the temporary disk, so placing a format copies it across devices, as onto NFS.
        Mount(sync.Published, "size=1m");
        try
        {
            var importer = sync.NewImporter();
            var archive = Path.Combine(sync.Spool, "r-full.tar");
            TestArchives.WriteRecording(archive, "r-full", mediaBytes: 3 << 20);

            var failure = await Assert.ThrowsAnyAsync<IOException>(() => importer.ImportAsync(archive, CancellationToken.None));

            Assert.Contains("space", failure.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Empty(sync.StagingLeftovers());
            Assert.Empty(Directory.EnumerateFileSystemEntries(sync.Work));
            Assert.True(File.Exists(archive), "the archive is kept for the retry");
            Assert.Null(await sync.RecordingAsync("r-full"));

            Remount(sync.Published, "size=64m");
            Assert.Equal(ImportOutcome.Imported, await importer.ImportAsync(archive, CancellationToken.None));

            Assert.Empty(sync.StagingLeftovers());
            Assert.NotNull(await sync.RecordingAsync("r-full"));
            Assert.Equal(3 << 20, new FileInfo(Path.Combine(sync.Published, "presentation", "r-full", "media.bin")).Length);
        }
        finally
        {
            Run("umount", "-l", sync.Published);
        }
    }

    [Fact]
    public async Task SpoolImportService_ImportFailsForATemporaryReason_IsRetriedAtTheNextScan()
    {
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var probe = new FailOnce(time, TimeSpan.FromSeconds(5));
        var failed = new FailureLog();
        var options = Options.Create(new RecordingOptions
        {
            SpoolDir = sync.Spool,
            WorkDir = sync.Work,
            PublishDir = sync.Published,
            UnpublishDir = sync.Unpublished,
            ImportPollInterval = 60,
            ImportSettleTime = 1,
        });
        var importer = new RecordingImporter(
            sync.Host.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<ScaleliteDbContext>>(), options, sync.Files, probe,
            sync.Host.Services.GetRequiredService<RecordingSyncMetrics>(), sync.Host.Services.GetRequiredService<Scalelite.Core.Meetings.MeetingEvents>(), time,
            NullLogger<RecordingImporter>.Instance);
        var archive = Path.Combine(sync.Spool, "r-retry.tar");
        TestArchives.WriteRecording(archive, "r-retry");
        File.SetLastWriteTimeUtc(archive, DateTime.UtcNow.AddHours(-1));

        using var service = new SpoolImportService(importer, sync.Files, options, sync.Host.Services.GetRequiredService<DatabaseMigrator>(), time, failed);
        await service.StartAsync(CancellationToken.None);
        try
        {
            // The first scan (at the start) takes the archive; the import fails 5 s later (virtual time).
            await failed.First.WaitAsync(Deadline);

            // One scan interval after that scan, not after the failure, the archive is tried again.
            time.Advance(TimeSpan.FromSeconds(55));
            // Gone under its own name and as a claim (an importer holds it under a claim while it imports).
            await Eventually.TrueAsync(
                () => Task.FromResult(!File.Exists(archive) && !Directory.EnumerateFiles(sync.Spool, ".claim.*.r-retry.tar").Any()),
                Deadline, "the archive is imported at the next scan");
            Assert.NotNull(await sync.RecordingAsync("r-retry"));
            Assert.Equal(2, probe.Attempts);
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private static void Mount(string directory, string options) => Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", directory);

    private static void Remount(string directory, string options) => Run("mount", "-o", $"remount,{options}", directory);

    private static void Run(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', arguments)}: {error}");
    }

    /// <summary>The first import takes a while and then fails as a full disk would; later ones go through.</summary>
    private sealed class FailOnce(FakeTimeProvider time, TimeSpan duration) : IImportProbe
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public void At(ImportStep reached, string recordId)
        {
            if (reached == ImportStep.Extracted && Interlocked.Increment(ref _attempts) == 1)
            {
                time.Advance(duration);
                throw new IOException("No space left on device");
            }
        }
    }

    /// <summary>The service's log, where the test hears of the first failed import.</summary>
    private sealed class FailureLog : ILogger<SpoolImportService>
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task First => _first.Task;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && formatter(state, exception).StartsWith("Importing ", StringComparison.Ordinal))
            {
                _first.TrySetResult();
            }
        }
    }
}
