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
/// A failure is dated by the number of periodic scans started when the import failed, not by when its bookkeeping
/// is done: a periodic scan that starts in between (and so sees the archive still in flight) is followed by a scan
/// woken by the failure itself, so the retry comes with the first periodic scan after the failure whatever the order.
/// <para>Several instances may share the spool: each archive is claimed by a rename before it is imported
/// (<see cref="ArchiveClaim"/>), so only one instance imports it; the claim is renewed while the import runs, released
/// when the import fails for a temporary reason, and taken over by another instance when its holder stopped renewing it
/// for <c>ImportClaimTimeout</c>. For the same reason only leftovers older than that timeout are swept (at start and at
/// every periodic scan): anything younger may be another instance's import in progress.</para>
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
    // Archives whose import failed for a temporary reason, with the count of periodic scans started at the failure:
    // left alone until a later periodic scan has started.
    private readonly ConcurrentDictionary<string, long> _waitForPeriodicScan = new(StringComparer.Ordinal);
    private long _periodicScans;

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
        files.SweepLeftovers(time.GetUtcNow() - o.ClaimTimeout);
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
                Interlocked.Increment(ref _periodicScans);
                SweepAbandoned(o);
            }

            var waitingForSettle = false;
            try
            {
                waitingForSettle = Scan(o, readiness, slots, running, stoppingToken);
            }
            catch (IOException e)
            {
                Log.ScanFailed(logger, e.Message);
            }

            running.RemoveAll(t => t.IsCompleted);
            var now = time.GetUtcNow();
            var wakeAt = waitingForSettle && now + readiness.MinimumGap < nextPeriodicScan ? now + readiness.MinimumGap : nextPeriodicScan;
            using var timer = new CancellationTokenSource(wakeAt > now ? wakeAt - now : TimeSpan.Zero, time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
            try
            {
                // The clock may have moved on between reading it and arming the timer (which counts from the arming),
                // so look again once it is armed: a moment already passed is not waited for a second time.
                if (time.GetUtcNow() < wakeAt)
                {
                    await _wake.Reader.ReadAsync(timeout.Token);
                }
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

    private void SweepAbandoned(RecordingOptions o)
    {
        try
        {
            files.SweepLeftovers(time.GetUtcNow() - o.ClaimTimeout);
        }
        catch (IOException e)
        {
            Log.ScanFailed(logger, e.Message);
        }
    }

    /// <returns>Whether some archive is waiting to settle (so the next scan should come soon).</returns>
    private bool Scan(RecordingOptions o, ArchiveReadiness readiness, SemaphoreSlim slots, List<Task> running, CancellationToken ct)
    {
        var spool = o.SpoolDir;
        var waiting = false;
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in new DirectoryInfo(spool).EnumerateFiles())
        {
            if (ArchiveClaim.TryParse(file.Name, out _, out _, out var claimed))
            {
                // Another instance's (or a dead one's): taken over only once its holder stopped renewing it.
                if (!_inFlight.ContainsKey(claimed)
                    && ArchiveClaim.TryTakeOver(spool, file.Name, time.GetUtcNow(), o.ClaimTimeout) is { } abandoned)
                {
                    Log.TookOver(logger, claimed, file.Name);
                    _inFlight[claimed] = 0;
                    running.Add(RunAsync(abandoned, o.ClaimTimeout, slots, ct));
                }

                continue;
            }

            if (!ArchiveReadiness.IsArchiveName(file.Name))
            {
                continue;
            }

            present.Add(file.FullName);
            if (_waitForPeriodicScan.TryGetValue(file.FullName, out var failedAt) && failedAt == Volatile.Read(ref _periodicScans))
            {
                continue;
            }

            if (!readiness.IsReady(file.FullName, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)))
            {
                waiting = true;
                continue;
            }

            if (_inFlight.ContainsKey(file.Name) || ArchiveClaim.TryClaim(spool, file.Name, time.GetUtcNow()) is not { } claim)
            {
                continue;
            }

            _inFlight[file.Name] = 0;
            _waitForPeriodicScan.TryRemove(file.FullName, out _);
            running.Add(RunAsync(claim, o.ClaimTimeout, slots, ct));
        }

        readiness.Retain(present);
        foreach (var gone in _waitForPeriodicScan.Keys.Where(k => !present.Contains(k)))
        {
            _waitForPeriodicScan.TryRemove(gone, out _);
        }

        return waiting;
    }

    private async Task RunAsync(ArchiveClaim claim, TimeSpan claimTimeout, SemaphoreSlim slots, CancellationToken ct)
    {
        string? failure = null;
        var archive = Path.Combine(options.Value.SpoolDir, claim.Name);
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewal = time.CreateTimer(_ =>
        {
            if (!claim.Renew(time.GetUtcNow()))
            {
                Log.ClaimLost(logger, claim.Name);
                lost.Cancel();
            }
        }, null, claimTimeout / 3, claimTimeout / 3);
        try
        {
            await slots.WaitAsync(lost.Token);
            try
            {
                await importer.ImportAsync(claim, lost.Token);
            }
            finally
            {
                slots.Release();
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            // Stopping, or another instance took the claim over: the archive is no longer ours to touch.
            if (ct.IsCancellationRequested)
            {
                claim.Release();
            }
        }
        catch (Exception e)
        {
            // Not the archive's fault: hand it back and try again at the next periodic scan (or let another instance
            // take it). Marked before the archive leaves _inFlight (below), so a scan never sees it as neither.
            _waitForPeriodicScan[archive] = Volatile.Read(ref _periodicScans);
            claim.Release();
            failure = e.Message;
        }
        finally
        {
            await renewal.DisposeAsync();
            _inFlight.TryRemove(claim.Name, out _);
        }

        if (failure is not null)
        {
            // A periodic scan that started since the failure skipped the archive as in flight: the scan woken here
            // retries it on that scan's behalf (and passes it over otherwise). Logged last, so whoever hears of the
            // failure finds the bookkeeping done.
            Wake();
            Log.ImportFailed(logger, claim.Name, failure);
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

        [LoggerMessage(5, LogLevel.Warning, "Taking over {Archive}: its claim {Claim} was not renewed in time (its importer stopped)")]
        public static partial void TookOver(ILogger logger, string archive, string claim);

        [LoggerMessage(6, LogLevel.Warning, "Importing {Archive} stopped: another importer took its claim over")]
        public static partial void ClaimLost(ILogger logger, string archive);
    }
}
