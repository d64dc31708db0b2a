namespace Scalelite.Core.Monitoring;

/// <summary>How one recording directory answered RecordingSync's probe.</summary>
/// <param name="Status"><see cref="DirectoryStatus"/>'s values.</param>
/// <param name="ProbeSeconds">How long the write probe took (or had been waiting, when it did not answer).</param>
public sealed record DirectoryReport(
    string Name, string Path, string Status, string? Error, double? FreePercent, double? FreeInodesPercent, long? FreeBytes, long? FreeInodes, double? ProbeSeconds);

public static class DirectoryStatus
{
    public const string Ok = "ok";
    public const string Missing = "missing";
    public const string NotWritable = "not-writable";
    public const string NotAnswering = "not-answering";
}

/// <summary>
/// RecordingSync's report on the recording volume and the spool (the <c>recordingsync</c> row of
/// <c>monitoring_reports</c>), read by the poller's recording checks.
/// </summary>
/// <param name="SpoolArchives">Archives waiting in the spool.</param>
/// <param name="OldestArchiveSeconds">Age of the oldest of them (from its last write); null when none waits.</param>
/// <param name="Quarantined">Archives set aside in <c>spool/failed/</c>.</param>
/// <param name="ListedDelayP95">95th percentile of meeting end → listed over the last hour's imports; null without any.</param>
/// <param name="ProbeInterval">Seconds between reports, so a reader can tell a late one.</param>
public sealed record RecordingReport(
    IReadOnlyList<DirectoryReport> Directories,
    string SpoolPath,
    int SpoolArchives,
    double? OldestArchiveSeconds,
    int Quarantined,
    double? ListedDelayP95,
    int ListedSamples,
    double ProbeInterval)
{
    public const string Source = "recordingsync";
}
