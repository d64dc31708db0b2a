using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Decides which results of the health checks reach the log: the one place for it. Failures while the service starts
/// are expected and stay out; Degraded results stay out always; after start-up an Unhealthy check is logged as an error.
/// </summary>
/// <remarks>
/// While a service starts, its readiness checks fail by design: PostgreSQL still accepting its first connections, the
/// migrations not applied yet, the server list not loaded. The orchestrator probes <c>/health</c> from the first
/// second, and the health check service logs every failing check at Error, often with a stack trace, so a start that
/// goes exactly as planned would show as errors on the dashboard. Start-up ends at the first report that is not
/// Unhealthy (Degraded counts: the service is serving), or once <see cref="GracePeriod"/> has passed, so that a service
/// that never becomes ready still logs why. A Degraded check (the pool cannot lose its largest node, the API riding
/// out a PostgreSQL outage) would log a warning, exception and all, at every probe; <c>/health</c>'s body and the
/// component's own log (the outage logged once, then summarised) say it already. <c>/health</c> reports the real
/// status throughout.
/// </remarks>
public sealed class StartupHealthLog(TimeProvider time)
{
    /// <summary>The log category of the health check service (and of its publisher).</summary>
    public const string Category = "Microsoft.Extensions.Diagnostics.HealthChecks";

    /// <summary>
    /// About 20 s on a quiet 2-core machine, a minute while other work loads it: three minutes is longer than any start
    /// that succeeds, and short enough that a service stuck starting soon says why.
    /// </summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromMinutes(3);

    private readonly long _started = time.GetTimestamp();
    private volatile bool _served;

    /// <summary>The service has reported itself serving once, or has had its time to start.</summary>
    public bool StartupOver => _served || time.GetElapsedTime(_started) >= GracePeriod;

    /// <summary>Notes a health report as <c>/health</c> answers it.</summary>
    public void Observe(HealthReport report)
    {
        if (report.Status != HealthStatus.Unhealthy)
        {
            _served = true;
        }
    }

    /// <summary>
    /// The log filter for <see cref="Category"/>: Errors (an Unhealthy check), once start-up is over. Degraded checks log
    /// Warnings and passing ones Debug entries, one per check and probe: neither is kept.
    /// </summary>
    public bool Allows(LogLevel level) => level >= LogLevel.Error && StartupOver;
}
