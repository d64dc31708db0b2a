using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Scalelite.RecordingSync.Importing;

/// <summary>The importer's instruments (meter <c>Scalelite.RecordingSync</c>).</summary>
public sealed class RecordingSyncMetrics
{
    public const string MeterName = "Scalelite.RecordingSync";

    private static readonly string[] CallbackOutcomes = ["delivered", "retry", "failed"];

    private readonly Histogram<double> _delay;
    private readonly long[] _callbacks = new long[CallbackOutcomes.Length];
    private long _imported;
    private long _failed;
    private readonly Histogram<double> _listed;
    private readonly Queue<(DateTimeOffset At, double Seconds)> _recentListed = new();
    private readonly Lock _gate = new();

    public RecordingSyncMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _delay = meter.CreateHistogram<double>("scalelite.recording.import.delay", "s",
            "Time from an archive's arrival in the spool (its last write) until its recording is indexed.");
        // Observable counters: their series exist (at 0) from the start, so rules and dashboards can rate them.
        meter.CreateObservableCounter("scalelite.recording.imports", () => Interlocked.Read(ref _imported), "{archive}", "Archives imported.");
        meter.CreateObservableCounter("scalelite.recording.import.failures", () => Interlocked.Read(ref _failed), "{archive}", "Archives set aside as malformed.");
        meter.CreateObservableCounter("scalelite.recording.callbacks",
            () => CallbackOutcomes.Select((o, i) => new Measurement<long>(Interlocked.Read(ref _callbacks[i]), new KeyValuePair<string, object?>("outcome", o))),
            "{callback}", "Recording-ready callback attempts, by outcome.");
        _listed = meter.CreateHistogram<double>("scalelite.recording.listed.delay", "s",
            "Time from a recorded meeting's end until its recording is listed in getRecordings (BBB's processing, the transfer and the import).");
    }

    /// <summary>How long after its meeting ended a recording became listed; kept an hour for the p95 the alert reads.</summary>
    public void Listed(DateTimeOffset now, TimeSpan sinceMeetingEnd)
    {
        var seconds = Math.Max(0, sinceMeetingEnd.TotalSeconds);
        _listed.Record(seconds);
        lock (_gate)
        {
            _recentListed.Enqueue((now, seconds));
            Trim(now);
        }
    }

    /// <summary>The 95th percentile of the last hour's <see cref="Listed"/> delays, and how many there were.</summary>
    public (double? P95, int Samples) ListedP95(DateTimeOffset now)
    {
        double[] values;
        lock (_gate)
        {
            Trim(now);
            values = [.. _recentListed.Select(s => s.Seconds)];
        }

        if (values.Length == 0)
        {
            return (null, 0);
        }

        Array.Sort(values);
        return (values[(int)Math.Ceiling(0.95 * values.Length) - 1], values.Length);
    }

    private void Trim(DateTimeOffset now)
    {
        while (_recentListed.Count > 0 && (now - _recentListed.Peek().At > TimeSpan.FromHours(1) || _recentListed.Count > 10_000))
        {
            _recentListed.Dequeue();
        }
    }

    public void Imported(TimeSpan delay)
    {
        Interlocked.Increment(ref _imported);
        _delay.Record(Math.Max(0, delay.TotalSeconds));
    }

    public void Failed() => Interlocked.Increment(ref _failed);

    /// <param name="outcome">delivered, retry or failed.</param>
    public void Callback(string outcome)
    {
        var index = Array.IndexOf(CallbackOutcomes, outcome);
        Debug.Assert(index >= 0, $"unknown callback outcome {outcome}");
        if (index >= 0)
        {
            Interlocked.Increment(ref _callbacks[index]);
        }
    }
}
