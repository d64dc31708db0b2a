using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Scalelite.Core.Persistence;
using Scalelite.Core.Recordings;

namespace Scalelite.RecordingSync.Importing;

/// <summary>Watches the spool and imports what arrives, several archives at once up to the configured limit.</summary>
/// <remarks>
/// File system notifications only wake the scanner; the scan itself (a listing of the spool's top level) is the
/// source of truth, and it also runs every <c>ImportPollInterval</c>, because NFS clients do not see each other's
/// writes as notifications. An archive that is not ready yet gets a rescan soon after. An archive that fails for a
/// reason other than being malformed (the database is down, a disk is full) stays where it is and is retried at
/// the next periodic scan: the periodic scans keep their own schedule (one every <c>ImportPollInterval</c>, counted
/// from the previous one, whatever woke the scanner in between), and a failure only holds its archive back from
/// the scans woken by notifications before that. Counting the wait from the failure instead would skip the next
/// scan whenever the import took any time, and the retry would come two intervals later.
/// </remarks>
public sealed partial class SpoolImportService(
    RecordingImporter importer,
    RecordingFiles files,
    IOptions<RecordingOptions> options,
    DatabaseMigrator migrator,
    TimeProvider time,
    ILogger<SpoolImportService> logger) : BackgroundService
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    // Archives whose import failed for a temporary reason: left alone until the next periodic scan.
    private readonly ConcurrentDictionary<string, byte> _waitForPeriodicScan = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (o.Disabled)
        {
            Log.Disabled(logger);
            return;
        }

        foreach (var dir in new[] { o.SpoolDir, o.WorkDir, o.PublishDir, o.UnpublishDir })
        {
            Directory.CreateDirectory(dir);
        }

        await migrator.Migrated.WaitAsync(stoppingToken);
        files.SweepLeftovers();
        var readiness = new ArchiveReadiness(time, o.SettleTime);
        using var slots = new SemaphoreSlim(o.ImportParallelism);
        using var watcher = new FileSystemWatcher(o.SpoolDir) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.LastWrite };
        watcher.Created += (_, _) => Wake();
        watcher.Renamed += (_, _) => Wake();
        watcher.Changed += (_, _) => Wake();
        watcher.Error += (_, _) => Wake();
        watcher.EnableRaisingEvents = true;
        Log.Watching(logger, o.SpoolDir, o.ImportParallelism);

        var running = new List<Task>();
        var nextPeriodicScan = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (time.GetUtcNow() >= nextPeriodicScan)
            {
                nextPeriodicScan = time.GetUtcNow() + o.PollInterval;
                _waitForPeriodicScan.Clear();
            }

            var waitingForSettle = false;
            try
            {
                waitingForSettle = Scan(o.SpoolDir, readiness, slots, running, stoppingToken);
            }
            catch (IOException e)
            {
                Log.ScanFailed(logger, e.Message);
            }

            running.RemoveAll(t => t.IsCompleted);
            var untilPeriodic = nextPeriodicScan - time.GetUtcNow();
            var next = waitingForSettle && readiness.MinimumGap < untilPeriodic ? readiness.MinimumGap : untilPeriodic;
            using var timer = new CancellationTokenSource(next > TimeSpan.Zero ? next : TimeSpan.Zero, time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
            try
            {
                await _wake.Reader.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(running).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <returns>Whether some archive is waiting to settle (so the next scan should come soon).</returns>
    private bool Scan(string spool, ArchiveReadiness readiness, SemaphoreSlim slots, List<Task> running, CancellationToken ct)
    {
        var waiting = false;
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(spool).EnumerateFiles())
        {
            if (!ArchiveReadiness.IsArchiveName(file.Name))
            {
                continue;
            }

            present.Add(file.FullName);
            if (_inFlight.ContainsKey(file.FullName) || _waitForPeriodicScan.ContainsKey(file.FullName))
            {
                continue;
            }

            if (!readiness.IsReady(file.FullName, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)))
            {
                waiting = true;
                continue;
            }

            _inFlight[file.FullName] = 0;
            running.Add(RunAsync(file.FullName, slots, ct));
        }

        readiness.Retain(present);
        foreach (var gone in _waitForPeriodicScan.Keys.Where(k => !present.Contains(k)))
        {
            _waitForPeriodicScan.TryRemove(gone, out _);
        }

        return waiting;
    }

    private async Task RunAsync(string archive, SemaphoreSlim slots, CancellationToken ct)
    {
        try
        {
            await slots.WaitAsync(ct);
            try
            {
                await importer.ImportAsync(archive, ct);
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Not the archive's fault: keep it and try again at the next periodic scan. Marked before the archive
            // leaves _inFlight (below), so a scan never sees it as neither.
            _waitForPeriodicScan[archive] = 0;
            Log.ImportFailed(logger, Path.GetFileName(archive), e.Message);
        }
        finally
        {
            _inFlight.TryRemove(archive, out _);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Recordings are disabled (RECORDING_DISABLED); the spool is not watched")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(2, LogLevel.Information, "Watching {Spool} for recording archives, {Parallelism} at a time")]
        public static partial void Watching(ILogger logger, string spool, int parallelism);

        [LoggerMessage(3, LogLevel.Warning, "Importing {Archive} failed, will retry: {Error}")]
        public static partial void ImportFailed(ILogger logger, string archive, string error);

        [LoggerMessage(4, LogLevel.Warning, "Scanning the spool failed: {Error}")]
        public static partial void ScanFailed(ILogger logger, string error);
    }
}
