using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>Whether a server may be enabled, and if not, every reason why.</summary>
public sealed record AdmissionVerdict(bool Admitted, IReadOnlyList<string> Reasons)
{
    public string Explanation => Admitted ? "admitted" : string.Join("; ", Reasons);
}

/// <summary>Decides whether a server may take meetings, from what the probes have observed.</summary>
/// <remarks>
/// A server is admitted only when all three hold: it has passed the healthy threshold (it is online, which
/// takes <c>SERVER_HEALTHY_THRESHOLD</c> successful polls in a row), its latest poll succeeded (a FAILED
/// answer such as <c>checksumError</c> means it does not accept our secret), and it has reported its BBB
/// version (the index call answered as a BBB server does). Each missing condition is a separate reason,
/// so the operator sees everything to fix at once.
/// </remarks>
public sealed class AdmissionPolicy(IOptions<PollerOptions> poller)
{
    public AdmissionVerdict Evaluate(Server server)
    {
        var reasons = new List<string>();
        if (!server.Online)
        {
            var threshold = poller.Value.HealthyThreshold;
            reasons.Add(server.LastPolledAt is null
                ? "it has not been polled yet"
                : $"it has not passed the healthy threshold ({server.HealthyCounter} of {threshold} successful polls in a row)");
        }

        if (server.LastPollError is { } error)
        {
            reasons.Add(error.Contains("checksumError", StringComparison.OrdinalIgnoreCase)
                ? $"it does not accept our secret ({error})"
                : $"its last poll failed ({error})");
        }

        if (string.IsNullOrEmpty(server.BbbVersion))
        {
            reasons.Add("it has not reported its BBB version");
        }

        return new AdmissionVerdict(reasons.Count == 0, reasons);
    }
}
