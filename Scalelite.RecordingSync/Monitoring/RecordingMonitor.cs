using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Persistence;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Importing;

namespace Scalelite.RecordingSync.Monitoring;

/// <summary>
/// Every <c>Alerts__RecordingProbeInterval</c>, probes the four recording directories, counts the spool's backlog and
/// the quarantined archives, and reports it all to PostgreSQL for the poller's recording checks
/// (<see cref="Core.Monitoring.Checks.RecordingChecks"/>); the same figures are this service's gauges.
/// </summary>
/// <remarks>
/// Every look at the volume goes through <see cref="VolumeProbe"/>, with a timeout: a hung mount makes a report saying
/// so, on time. Off while recordings are disabled (<c>RECORDING_DISABLED</c>): then the volume may not even be mounted.
/// </remarks>
public sealed partial class RecordingMonitor : BackgroundService
{
    private readonly IOptionsMonitor<RecordingOptions> _recording;
    private readonly IOptionsMonitor<AlertOptions> _alerts;
    private readonly MonitoringStore _store;
    private readonly RecordingSyncMetrics _metrics;
    private readonly VolumeProbe _probe;
    private readonly DatabaseMigrator _migrator;
    private readonly TimeProvider _time;
    private readonly OutageLog _outage;
    private RecordingReport? _last;

    public RecordingMonitor(
        IOptionsMonitor<RecordingOptions> recording, IOptionsMonitor<AlertOptions> alerts, MonitoringStore store, RecordingSyncMetrics metrics,
        VolumeProbe probe, DatabaseMigrator migrator, IMeterFactory meters, TimeProvider time, ILogger<RecordingMonitor> logger)
    {
        (_recording, _alerts, _store, _metrics, _probe, _migrator, _time) = (recording, alerts, store, metrics, probe, migrator, time);
        _outage = new OutageLog(logger, "PostgreSQL (recording report)", time);
        var meter = meters.Create(RecordingSyncMetrics.MeterName);
        meter.CreateObservableGauge("scalelite.recording.directory.free", () => PerDirectory(d => d.FreeBytes), "By", "Free bytes of each recording directory's file system.");
        meter.CreateObservableGauge("scalelite.recording.directory.free_inodes", () => PerDirectory(d => d.FreeInodes), "{inode}", "Free inodes of each recording directory's file system.");
        meter.CreateObservableGauge("scalelite.recording.directory.free_ratio", () => PerDirectory(d => d.FreePercent / 100), "1", "Free share of each recording directory's file system.");
        meter.CreateObservableGauge("scalelite.recording.directory.probe.duration", () => PerDirectory(d => d.ProbeSeconds), "s",
            "How long the last write probe of each recording directory took (or has been hanging).");
        meter.CreateObservableGauge("scalelite.recording.directory.ok", () => PerDirectory(d => d.Status == DirectoryStatus.Ok ? 1 : 0),
            description: "1 while the recording directory exists, is writable and answers.");
        meter.CreateObservableGauge("scalelite.recording.spool.archives", () => Single(r => r.SpoolArchives), "{archive}", "Archives waiting in the spool.");
        meter.CreateObservableGauge("scalelite.recording.spool.oldest.age", () => Single(r => r.OldestArchiveSeconds ?? 0), "s",
            "Age of the oldest archive waiting in the spool (0 when none waits).");
        meter.CreateObservableGauge("scalelite.recording.quarantined", () => Single(r => r.Quarantined), "{archive}", "Archives set aside in spool/failed/.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_recording.CurrentValue.Disabled)
        {
            return;
        }

        await _migrator.Migrated.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_alerts.CurrentValue.RecordingProbeInterval), _time);
        do
        {
            await ReportAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Probes and reports once; returns the report.</summary>
    public async Task<RecordingReport> ReportAsync(CancellationToken ct)
    {
        var r = _recording.CurrentValue;
        var a = _alerts.CurrentValue;
        var timeout = TimeSpan.FromSeconds(a.RecordingProbeTimeout);
        var directories = await Task.WhenAll(
            _probe.DirectoryAsync("spool", r.SpoolDir, timeout),
            _probe.DirectoryAsync("work", r.WorkDir, timeout),
            _probe.DirectoryAsync("published", r.PublishDir, timeout),
            _probe.DirectoryAsync("unpublished", r.UnpublishDir, timeout));
        var (spool, _) = await _probe.RunAsync("spool-listing:" + r.SpoolDir, () => Spool.Read(r.SpoolDir, _time.GetUtcNow()), timeout);
        var (p95, samples) = _metrics.ListedP95(_time.GetUtcNow());
        var report = new RecordingReport(directories, r.SpoolDir, spool?.Archives ?? 0, spool?.OldestSeconds, spool?.Quarantined ?? 0, p95, samples,
            a.RecordingProbeInterval);
        _last = report;
        try
        {
            await _store.ReportAsync(RecordingReport.Source, report, _time.GetUtcNow(), ct);
            _outage.Succeeded();
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e) && !ct.IsCancellationRequested)
        {
            _outage.Failed(e);
        }

        return report;
    }

    private IEnumerable<Measurement<double>> PerDirectory(Func<DirectoryReport, double?> value)
    {
        foreach (var d in _last?.Directories ?? [])
        {
            if (value(d) is { } v)
            {
                yield return new Measurement<double>(v, new KeyValuePair<string, object?>("directory", d.Name));
            }
        }
    }

    private IEnumerable<Measurement<double>> Single(Func<RecordingReport, double> value) =>
        _last is { } report ? [new Measurement<double>(value(report))] : [];

    /// <summary>The spool's backlog and quarantine, from one listing of each.</summary>
    private sealed record Spool(int Archives, double? OldestSeconds, int Quarantined)
    {
        public static Spool Read(string spool, DateTimeOffset now)
        {
            if (!Directory.Exists(spool))
            {
                // The spool directory's own report says it is missing.
                return new Spool(0, null, 0);
            }

            var archives = new DirectoryInfo(spool).EnumerateFiles().Where(f => ArchiveReadiness.IsArchiveName(f.Name)).ToList();
            var failed = Path.Combine(spool, RecordingImporter.FailedFolder);
            var quarantined = Directory.Exists(failed)
                ? new DirectoryInfo(failed).EnumerateFiles().Count(f => !f.Name.EndsWith(".reason.txt", StringComparison.Ordinal))
                : 0;
            double? oldest = archives.Count == 0 ? null : archives.Max(f => (now - new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero)).TotalSeconds);
            return new Spool(archives.Count, oldest, quarantined);
        }
    }
}
