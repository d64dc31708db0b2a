using System.ComponentModel.DataAnnotations;
using Scalelite.Core.Configuration;

namespace Scalelite.Core.Monitoring;

/// <summary>The alert evaluator's thresholds (section <c>Alerts</c>); each one's meaning is in <see cref="Settings"/>.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    [Range(0.1, 3600)] public double EvaluationInterval { get; set; } = 15;
    [Range(0, 86400)] public double ClearAfter { get; set; } = 120;
    [Range(1, 86400)] public double RateWindow { get; set; } = 300;
    [Range(0, double.MaxValue)] public double ApiErrorsPerMinute { get; set; } = 5;
    [Range(0, double.MaxValue)] public double ChecksumErrorsPerMinute { get; set; } = 20;
    [Range(0, double.MaxValue)] public double JoinFailuresPerMinute { get; set; } = 30;
    [Range(0, 10)] public double ImbalanceSpread { get; set; } = 0.3;
    [Range(0, 86400)] public double ImbalanceDuration { get; set; } = 600;
    [Range(0.001, 3600)] public double DependencyTimeout { get; set; } = 5;
    [Range(0.001, 3600)] public double PostgresSlow { get; set; } = 0.5;
    [Range(0.001, 3600)] public double RedisSlow { get; set; } = 0.2;
    [Range(0.01, 1)] public double ConnectionUse { get; set; } = 0.8;
    [Range(0.01, 1)] public double RedisMemoryUse { get; set; } = 0.9;
    [Range(0.1, 3600)] public double RecordingProbeInterval { get; set; } = 30;
    [Range(0.1, 3600)] public double RecordingProbeTimeout { get; set; } = 10;
    [Range(0.001, 3600)] public double RecordingProbeSlow { get; set; } = 2;
    [Range(0, 100)] public double RecordingMinFreePercent { get; set; } = 10;
    [Range(0, 100)] public double RecordingMinFreeInodesPercent { get; set; } = 5;
    [Range(1, 864000)] public double ImportBacklogAge { get; set; } = 1800;
    [Range(1, 864000)] public double ImportDelayP95 { get; set; } = 10800;

    public TimeSpan Evaluation => TimeSpan.FromSeconds(EvaluationInterval);

    public TimeSpan Hysteresis => TimeSpan.FromSeconds(ClearAfter);

    public TimeSpan Window => TimeSpan.FromSeconds(RateWindow);

    /// <summary>The catalogue entries of these settings (<see cref="SettingCatalog"/>, docs/configuration.md).</summary>
    public static readonly IReadOnlyList<SettingDescriptor> Settings =
    [
        new("Alerts:EvaluationInterval", null, "15", "Seconds between evaluations of the outcome checks (in the poller)."),
        new("Alerts:ClearAfter", null, "120", "Seconds an alert's condition must have held false before the alert clears (hysteresis)."),
        new("Alerts:RateWindow", null, "300", "Seconds over which the API's error, checksum-error and join-failure rates are measured."),
        new("Alerts:ApiErrorsPerMinute", null, "5", "api-errors: FAILED answers caused by the pool (serverUnavailable, internalError: backend timeouts, no server, internal errors) per minute, over the rate window."),
        new("Alerts:ChecksumErrorsPerMinute", null, "20", "checksum-errors: checksumError answers per minute, over the rate window."),
        new("Alerts:JoinFailuresPerMinute", null, "30", "join-failures: joins answered FAILED per minute, over the rate window."),
        new("Alerts:ImbalanceSpread", null, "0.3", "placement-imbalance: largest minus smallest load/capacity among online enabled servers with a declared capacity."),
        new("Alerts:ImbalanceDuration", null, "600", "placement-imbalance: seconds the spread must stay above its threshold."),
        new("Alerts:DependencyTimeout", null, "5", "Seconds a PostgreSQL or Redis probe may take before it counts as unreachable."),
        new("Alerts:PostgresSlow", null, "0.5", "postgres: round trip, in seconds, above which PostgreSQL counts as slow."),
        new("Alerts:RedisSlow", null, "0.2", "redis: round trip, in seconds, above which Redis counts as slow."),
        new("Alerts:ConnectionUse", null, "0.8", "postgres, redis: share of the connection limit in use that raises the alert."),
        new("Alerts:RedisMemoryUse", null, "0.9", "redis: share of maxmemory in use that raises the alert (when maxmemory is set)."),
        new("Alerts:RecordingProbeInterval", null, "30", "Seconds between RecordingSync's probes of the recording directories and the spool."),
        new("Alerts:RecordingProbeTimeout", null, "10", "Seconds a recording directory's probe may take before the directory counts as not answering (a hung mount)."),
        new("Alerts:RecordingProbeSlow", null, "2", "recording-volume: seconds a directory's write probe may take before it counts as slow."),
        new("Alerts:RecordingMinFreePercent", null, "10", "recording-volume: free space, in percent of the file system, below which a recording directory raises the alert."),
        new("Alerts:RecordingMinFreeInodesPercent", null, "5", "recording-volume: free inodes, in percent, below which a recording directory raises the alert."),
        new("Alerts:ImportBacklogAge", null, "1800", "recording-import-delay: seconds the oldest archive may wait in the spool."),
        new("Alerts:ImportDelayP95", null, "10800", "recording-import-delay: 95th percentile, in seconds, of the time from a meeting's end until its recording is listed, over the last hour's imports."),
    ];
}
