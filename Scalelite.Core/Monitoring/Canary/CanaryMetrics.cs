using System.Diagnostics.Metrics;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>The canary's instruments, on the poller's meter (the canary runs where the poll cycle runs).</summary>
public sealed class CanaryMetrics
{
    public const string MeterName = "Scalelite.Poller";

    private readonly Histogram<double> _duration;
    private readonly Counter<long> _failures;

    public CanaryMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _duration = meter.CreateHistogram<double>("scalelite.canary.step.duration", "s",
            "Time each step of a canary meeting took (create, join, getMeetingInfo, end), by server, step and outcome.");
        _failures = meter.CreateCounter<long>("scalelite.canary.failures", "{failure}", "Failed canary steps, by server and step.");
    }

    public void Step(string serverId, CanaryStepResult step)
    {
        var server = new KeyValuePair<string, object?>("server", serverId);
        var name = new KeyValuePair<string, object?>("step", step.Step);
        _duration.Record(step.Duration.TotalSeconds, server, name, new KeyValuePair<string, object?>("outcome", step.Succeeded ? "ok" : "failed"));
        if (!step.Succeeded)
        {
            _failures.Add(1, server, name);
        }
    }
}
