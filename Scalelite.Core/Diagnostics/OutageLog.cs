using Microsoft.Extensions.Logging;

namespace Scalelite.Core.Diagnostics;

/// <summary>
/// Logs a dependency's outage as one story instead of one stack trace per failed call: a warning when it begins, a
/// summary at most every <see cref="Interval"/> while it lasts, and a line when the dependency answers again.
/// </summary>
/// <remarks>
/// A store that is down fails every call that needs it: hundreds a second on a busy API, each of them with a stack
/// trace that says nothing the first one did not. An operator needs to know when the outage began, that it still
/// lasts and how much it cost, and when it ended. Each component that depends on a store keeps one instance per
/// store (the component names the log category, <see cref="Dependency"/> names the store), reports every failure
/// with <see cref="Failed(Exception)"/> and every success with <see cref="Succeeded"/>; a caller that never sees a
/// success (it only hears of failures) starts a new story after a quiet interval. Only the reason (the
/// exception's type and message, innermost first) is logged, never the stack trace: a failure that is not an outage
/// is the caller's to log in full. Thread-safe; calls during an outage cost a lock and a comparison.
/// <para>Redis is the exception to one instance per component: <see cref="State.RedisBreaker"/> keeps the process's
/// only one, and every Redis caller consults the breaker instead of logging Redis's outage itself.</para>
/// </remarks>
public sealed partial class OutageLog(ILogger logger, string dependency, TimeProvider time, TimeSpan? interval = null)
{
    /// <summary>How often a lasting outage is summarised unless told otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private DateTimeOffset? _since;
    private DateTimeOffset _reportedAt;
    private DateTimeOffset _failedAt;
    private long _failures;
    private long _unreported;

    /// <summary>What is down, as the log names it (e.g. <c>PostgreSQL</c>).</summary>
    public string Dependency { get; } = dependency;

    public TimeSpan Interval { get; } = interval ?? DefaultInterval;

    /// <summary>An outage has begun and no success has been seen since.</summary>
    public bool IsDown
    {
        get
        {
            lock (_gate)
            {
                return _since is not null;
            }
        }
    }

    /// <summary>Counts a failure; logs when it begins an outage, or when the last report is older than the interval.</summary>
    /// <returns>True when this failure was logged.</returns>
    public bool Failed(Exception error) => Failed(Reason(error));

    /// <inheritdoc cref="Failed(Exception)"/>
    public bool Failed(string reason)
    {
        var now = time.GetUtcNow();
        DateTimeOffset since;
        long failures;
        bool began;
        lock (_gate)
        {
            if (_since is not null && now - _failedAt >= Interval)
            {
                // A caller that only ever sees failures (a request handler) never reports the end: a quiet interval is one.
                _since = null;
                _failures = _unreported = 0;
            }

            _failedAt = now;
            _failures++;
            _unreported++;
            began = _since is null;
            if (!began && now - _reportedAt < Interval)
            {
                return false;
            }

            since = _since ??= now;
            _reportedAt = now;
            failures = _unreported;
            _unreported = 0;
        }

        if (began)
        {
            Log.Began(logger, Dependency, reason, Interval.TotalSeconds);
        }
        else
        {
            Log.Lasts(logger, Dependency, (now - since).TotalSeconds, failures, reason);
        }

        return true;
    }

    /// <summary>Ends an outage, if there was one, with a line saying how long it lasted and how many calls failed.</summary>
    public void Succeeded()
    {
        DateTimeOffset since;
        long failures;
        lock (_gate)
        {
            if (_since is not { } began)
            {
                return;
            }

            since = began;
            failures = _failures;
            _since = null;
            _failures = _unreported = 0;
        }

        Log.Ended(logger, Dependency, (time.GetUtcNow() - since).TotalSeconds, failures);
    }

    /// <summary>The type and message of the innermost exception (the cause), then of the ones wrapping it: no stack.</summary>
    public static string Reason(Exception error)
    {
        var parts = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            parts.Add($"{e.GetType().Name}: {e.Message}");
        }

        parts.Reverse();
        return string.Join(" (in ", parts.Take(3)) + new string(')', Math.Min(parts.Count, 3) - 1);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "{Dependency} is unavailable: {Reason}. Further failures are summarised every {Interval} s until it answers again")]
        public static partial void Began(ILogger logger, string dependency, string reason, double interval);

        [LoggerMessage(LogLevel.Warning, "{Dependency} has been unavailable for {Seconds:0} s; {Failures} failures since the last report: {Reason}")]
        public static partial void Lasts(ILogger logger, string dependency, double seconds, long failures, string reason);

        [LoggerMessage(LogLevel.Information, "{Dependency} answers again after {Seconds:0.0} s unavailable ({Failures} failures)")]
        public static partial void Ended(ILogger logger, string dependency, double seconds, long failures);
    }
}
