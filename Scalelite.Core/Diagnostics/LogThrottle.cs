namespace Scalelite.Core.Diagnostics;

/// <summary>
/// Lets a failure that repeats be logged once, then once per interval with the number held back, instead of once per
/// request: during an outage thousands of calls fail the same way, and one line says as much as all of them.
/// </summary>
public sealed class LogThrottle(TimeSpan interval, TimeProvider time)
{
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * time.TimestampFrequency);
    private long _next = long.MinValue;
    private long _heldBack;

    /// <summary>True when this occurrence is to be logged; <paramref name="heldBack"/> is how many were not since the last.</summary>
    public bool ShouldLog(out long heldBack)
    {
        var now = time.GetTimestamp();
        var next = Interlocked.Read(ref _next);
        if (now < next || Interlocked.CompareExchange(ref _next, now + _intervalTicks, next) != next)
        {
            Interlocked.Increment(ref _heldBack);
            heldBack = 0;
            return false;
        }

        heldBack = Interlocked.Exchange(ref _heldBack, 0);
        return true;
    }

    /// <summary>The outage is over: the next failure is news again and is logged at once.</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _heldBack, 0);
        Interlocked.Exchange(ref _next, long.MinValue);
    }
}
