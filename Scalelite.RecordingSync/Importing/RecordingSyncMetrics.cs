using System.Diagnostics.Metrics;

namespace Scalelite.RecordingSync.Importing;

/// <summary>The importer's instruments (meter <c>Scalelite.RecordingSync</c>).</summary>
public sealed class RecordingSyncMetrics
{
    public const string MeterName = "Scalelite.RecordingSync";

    private readonly Histogram<double> _delay;
    private readonly Counter<long> _imported;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _callbacks;

    public RecordingSyncMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _delay = meter.CreateHistogram<double>("scalelite.recording.import.delay", "s",
            "Time from an archive's arrival in the spool (its last write) until its recording is indexed.");
        _imported = meter.CreateCounter<long>("scalelite.recording.imports", "{archive}", "Archives imported.");
        _failed = meter.CreateCounter<long>("scalelite.recording.import.failures", "{archive}", "Archives set aside as malformed.");
        _callbacks = meter.CreateCounter<long>("scalelite.recording.callbacks", "{callback}", "Recording-ready callback attempts, by outcome.");
    }

    public void Imported(TimeSpan delay)
    {
        _imported.Add(1);
        _delay.Record(Math.Max(0, delay.TotalSeconds));
    }

    public void Failed() => _failed.Add(1);

    public void Callback(string outcome) => _callbacks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
