using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Monitoring;

/// <summary>
/// Runs every <see cref="IAlertCheck"/>, keeps the active alerts (<see cref="AlertBook"/>), logs each raise and clear
/// once, and stores the alerts in PostgreSQL for the operator API of every replica.
/// </summary>
/// <remarks>
/// The checks run concurrently, each bounded by a timeout, so one whose store hangs holds up neither the others nor
/// the next evaluation. The alerts live in this process; PostgreSQL has a copy. While PostgreSQL is down the alerts
/// are still evaluated, logged, shown on this service's <c>/health</c> and in its metrics, and the copy is written by
/// the first evaluation that reaches it again. At start the stored alerts are taken over, so a restart neither raises
/// an alert a second time nor forgets one.
/// </remarks>
public sealed partial class AlertEvaluator : IDisposable
{
    private readonly IReadOnlyList<IAlertCheck> _checks;
    private readonly MonitoringStore _store;
    private readonly IOptionsMonitor<AlertOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertEvaluator> _logger;
    private readonly OutageLog _storeOutage;
    private readonly Dictionary<IAlertCheck, OutageLog> _checkFailures = [];
    private AlertBook _book = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _restored;

    public AlertEvaluator(IEnumerable<IAlertCheck> checks, MonitoringStore store, IOptionsMonitor<AlertOptions> options, TimeProvider time, ILogger<AlertEvaluator> logger)
    {
        _checks = [.. checks];
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        _storeOutage = new OutageLog(logger, "PostgreSQL (alert store)", time);
        foreach (var check in _checks)
        {
            _checkFailures[check] = new OutageLog(logger, $"The {string.Join("/", check.Alerts)} check", time);
        }
    }

    /// <summary>Every alert id some check owns, in order.</summary>
    public IReadOnlyList<string> KnownAlerts => [.. _checks.SelectMany(c => c.Alerts).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The active alerts after the last evaluation, worst first.</summary>
    public IReadOnlyList<ActiveAlert> Current { get; private set; } = [];

    public DateTimeOffset? LastEvaluatedAt { get; private set; }

    /// <summary>Evaluates every check once and applies the result; returns the active alerts.</summary>
    public async Task<IReadOnlyList<ActiveAlert>> EvaluateAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await RestoreAsync(ct);
            var options = _options.CurrentValue;
            var timeout = TimeSpan.FromSeconds(options.DependencyTimeout * 2 + options.RecordingProbeTimeout);
            var results = await Task.WhenAll(_checks.Select(c => RunAsync(c, timeout, ct)));
            var unevaluated = new HashSet<string>(_checks.Zip(results).Where(r => r.Second is null).SelectMany(r => r.First.Alerts), StringComparer.Ordinal);
            var now = _time.GetUtcNow();
            var changes = _book.Apply(now, results.Where(r => r is not null).SelectMany(r => r!), unevaluated, options.Hysteresis);
            foreach (var change in changes)
            {
                LogChange(change);
            }

            Current = _book.Active;
            LastEvaluatedAt = now;
            try
            {
                await _store.SaveAlertsAsync(Current, now, ct);
                _storeOutage.Succeeded();
            }
            catch (Exception e) when (DatabaseOutage.IsOutage(e) && !ct.IsCancellationRequested)
            {
                _storeOutage.Failed(e);
            }

            return Current;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Forgets the active alerts without storing anything: another instance evaluates now. The stored alerts are
    /// restored again at the next evaluation here.
    /// </summary>
    public void StandDown()
    {
        _gate.Wait();
        try
        {
            _book = new AlertBook();
            Current = [];
            LastEvaluatedAt = null;
            _restored = false;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RestoreAsync(CancellationToken ct)
    {
        if (_restored)
        {
            return;
        }

        try
        {
            var (stored, _) = await _store.ReadAlertsAsync(ct);
            _book.Restore(stored);
            _restored = true;
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e) && !ct.IsCancellationRequested)
        {
            // Evaluate without them; an alert still true is raised again (and logged), one no longer true is left in
            // the store until the first save replaces it.
            _storeOutage.Failed(e);
            _restored = true;
        }
    }

    private async Task<IReadOnlyList<AlertCondition>?> RunAsync(IAlertCheck check, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            var found = await check.EvaluateAsync(ct).AsTask().WaitAsync(timeout, _time, ct);
            _checkFailures[check].Succeeded();
            return found;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            _checkFailures[check].Failed(e);
            return null;
        }
    }

    public void Dispose() => _gate.Dispose();

    private void LogChange(AlertChange change)
    {
        var a = change.Alert;
        switch (change.Kind)
        {
            case AlertChangeKind.Raised when a.Severity == AlertSeverity.Critical:
                Log.RaisedCritical(_logger, a.Alert, a.Subject, a.Value, a.Threshold, a.Message);
                break;
            case AlertChangeKind.Raised:
                Log.Raised(_logger, a.Alert, a.Subject, a.Value, a.Threshold, a.Message);
                break;
            case AlertChangeKind.SeverityChanged:
                Log.SeverityChanged(_logger, a.Alert, a.Subject, a.SeverityName, a.Value, a.Threshold, a.Message);
                break;
            default:
                Log.Cleared(_logger, a.Alert, a.Subject, (_time.GetUtcNow() - a.Since).TotalSeconds);
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Alert {Alert} raised for {Subject} (warning): {Message} (value {Value:0.###}, threshold {Threshold:0.###})")]
        public static partial void Raised(ILogger logger, string alert, string subject, double value, double threshold, string message);

        [LoggerMessage(LogLevel.Error, "Alert {Alert} raised for {Subject} (critical): {Message} (value {Value:0.###}, threshold {Threshold:0.###})")]
        public static partial void RaisedCritical(ILogger logger, string alert, string subject, double value, double threshold, string message);

        [LoggerMessage(LogLevel.Warning, "Alert {Alert} for {Subject} is now {Severity}: {Message} (value {Value:0.###}, threshold {Threshold:0.###})")]
        public static partial void SeverityChanged(ILogger logger, string alert, string subject, string severity, double value, double threshold, string message);

        [LoggerMessage(LogLevel.Information, "Alert {Alert} cleared for {Subject} after {Seconds:0} s")]
        public static partial void Cleared(ILogger logger, string alert, string subject, double seconds);
    }
}
