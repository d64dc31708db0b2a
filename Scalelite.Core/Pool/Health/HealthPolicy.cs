using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;

namespace Scalelite.Core.Pool.Health;

/// <summary>A server's health counters and verdict.</summary>
public readonly record struct HealthState(bool Online, int HealthyCounter, int UnhealthyCounter);

/// <summary>Judges health with hysteresis: one bad or good poll alone changes nothing.</summary>
/// <remarks>
/// An online server goes offline after <c>SERVER_UNHEALTHY_THRESHOLD</c> consecutive failed polls; an
/// offline one comes back after <c>SERVER_HEALTHY_THRESHOLD</c> consecutive successes. A result of the
/// other kind resets the streak, so a flapping server stays where it is.
/// </remarks>
public sealed class HealthPolicy(IOptions<PollerOptions> options)
{
    public HealthState Next(HealthState current, bool success)
    {
        var o = options.Value;
        if (success)
        {
            if (current.Online)
            {
                return new HealthState(true, 0, 0);
            }

            var healthy = current.HealthyCounter + 1;
            return healthy >= o.HealthyThreshold ? new HealthState(true, 0, 0) : new HealthState(false, healthy, 0);
        }

        if (!current.Online)
        {
            return new HealthState(false, 0, 0);
        }

        var unhealthy = current.UnhealthyCounter + 1;
        return unhealthy >= o.UnhealthyThreshold ? new HealthState(false, 0, 0) : new HealthState(true, 0, unhealthy);
    }
}
