using Microsoft.Extensions.Options;

namespace Scalelite.Core.Monitoring.Checks;

/// <summary>
/// The recording alerts, from RecordingSync's last <see cref="RecordingReport"/>: <c>recording-volume</c> (a directory
/// missing, not writable, not answering, slow, or short of space or inodes; subject <c>directory:PATH</c>),
/// <c>recording-import-delay</c> (the oldest archive in the spool, subject <c>directory:SPOOL</c>; the p95 of meeting end
/// → listed, or a report that stopped coming, subject <c>component:recordingsync</c>) and <c>recording-quarantine</c>
/// (archives in <c>spool/failed/</c>, subject <c>directory:SPOOL/failed</c>).
/// </summary>
/// <remarks>
/// RecordingSync probes the volume, since it is the service that has it mounted; the poller only judges what it
/// reported. A report that is late means RecordingSync is not running or cannot reach PostgreSQL: its probes carry their
/// own timeout, so a hung mount makes a report that says so, never a silent one. A pool that never had RecordingSync
/// running has no report and no recording alert.
/// </remarks>
public sealed class RecordingChecks(MonitoringStore store, IOptionsMonitor<AlertOptions> options, TimeProvider time) : IAlertCheck
{
    public IReadOnlyList<string> Alerts { get; } = [AlertIds.RecordingVolume, AlertIds.RecordingImportDelay, AlertIds.RecordingQuarantine];

    public async ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        if (await store.ReadReportAsync<RecordingReport>(RecordingReport.Source, cancellationToken) is not var (report, at))
        {
            return [];
        }

        var o = options.CurrentValue;
        var found = new List<AlertCondition>();
        var age = (time.GetUtcNow() - at).TotalSeconds;
        var late = 3 * report.ProbeInterval + o.RecordingProbeTimeout;
        if (age > late)
        {
            found.Add(new AlertCondition(AlertIds.RecordingImportDelay, AlertIds.Component("recordingsync"), AlertSeverity.Critical, age, late,
                $"RecordingSync has not reported for {age:0} s: recordings are probably not being imported. Check that it runs and its log."));
        }

        foreach (var d in report.Directories)
        {
            var subject = AlertIds.Directory(d.Path);
            switch (d.Status)
            {
                case DirectoryStatus.Missing:
                    found.Add(Volume(subject, AlertSeverity.Critical, 1, 0, $"The {d.Name} directory {d.Path} is missing: is the recording volume mounted?"));
                    continue;
                case DirectoryStatus.NotWritable:
                    found.Add(Volume(subject, AlertSeverity.Critical, 1, 0, $"The {d.Name} directory {d.Path} is not writable ({d.Error}): check the mount (read-only?) and its permissions."));
                    continue;
                case DirectoryStatus.NotAnswering:
                    found.Add(Volume(subject, AlertSeverity.Critical, d.ProbeSeconds ?? 0, o.RecordingProbeTimeout,
                        $"The {d.Name} directory {d.Path} did not answer within {o.RecordingProbeTimeout:0.#} s: a hung NFS mount? Check the NFS server and 'mount'."));
                    continue;
            }

            if (d.FreePercent is { } free && free < o.RecordingMinFreePercent)
            {
                found.Add(Volume(subject, free < o.RecordingMinFreePercent / 2 ? AlertSeverity.Critical : AlertSeverity.Warning, free, o.RecordingMinFreePercent,
                    $"The {d.Name} directory {d.Path} has {free:0.#} % free ({Gigabytes(d.FreeBytes)}): grow the volume or delete old recordings."));
            }

            if (d.FreeInodesPercent is { } inodes && inodes < o.RecordingMinFreeInodesPercent)
            {
                found.Add(Volume(subject, AlertSeverity.Warning, inodes, o.RecordingMinFreeInodesPercent,
                    $"The {d.Name} directory {d.Path} has {inodes:0.#} % of its inodes free: many small files; grow the file system's inode table or delete recordings."));
            }

            if (d.ProbeSeconds is { } seconds && seconds > o.RecordingProbeSlow)
            {
                found.Add(Volume(subject, AlertSeverity.Warning, seconds, o.RecordingProbeSlow,
                    $"Writing a small file to {d.Path} took {seconds:0.#} s: the volume (NFS server or network) is slow."));
            }
        }

        if (report.OldestArchiveSeconds is { } oldest && oldest > o.ImportBacklogAge)
        {
            found.Add(new AlertCondition(AlertIds.RecordingImportDelay, AlertIds.Directory(report.SpoolPath), AlertSeverity.Warning, oldest, o.ImportBacklogAge,
                $"{report.SpoolArchives} archive(s) wait in the spool, the oldest for {oldest:0} s: is RecordingSync importing (RECORDING_DISABLED, its log)?"));
        }

        if (report.ListedDelayP95 is { } p95 && p95 > o.ImportDelayP95)
        {
            found.Add(new AlertCondition(AlertIds.RecordingImportDelay, AlertIds.Component("recordingsync"), AlertSeverity.Warning, p95, o.ImportDelayP95,
                $"Recordings are listed {p95:0} s (p95 of {report.ListedSamples}) after their meeting ended: check the BBB nodes' processing queues and the spool backlog."));
        }

        if (report.Quarantined > 0)
        {
            found.Add(new AlertCondition(AlertIds.RecordingQuarantine, AlertIds.Directory(Path.Combine(report.SpoolPath, "failed")), AlertSeverity.Warning,
                report.Quarantined, 0,
                $"{report.Quarantined} archive(s) were set aside as malformed: read the .reason.txt beside each, fix or re-export it on its BBB node, then remove it."));
        }

        return found;
    }

    private static AlertCondition Volume(string subject, AlertSeverity severity, double value, double threshold, string message) =>
        new(AlertIds.RecordingVolume, subject, severity, value, threshold, message);

    private static string Gigabytes(long? bytes) => bytes is { } b ? $"{b / 1073741824.0:0.#} GiB" : "unknown";
}
