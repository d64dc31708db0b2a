using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Lifecycle;

namespace Scalelite.Tests.Core.Pool.Lifecycle;

public sealed class AdmissionPolicyTests
{
    private static readonly AdmissionPolicy Policy = new(Options.Create(new PollerOptions { HealthyThreshold = 3 }));

    private static Server Node(bool online, string? error, string? version, int healthy = 0) => new()
    {
        Url = "https://bbb.example.com/bigbluebutton/api", Secret = "s", Online = online, LastPollError = error, BbbVersion = version,
        HealthyCounter = healthy, LastPolledAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void Evaluate_HealthyWithVersion_IsAdmitted() =>
        Assert.True(Policy.Evaluate(Node(true, null, "3.0.4")).Admitted);

    [Fact]
    public void Evaluate_BelowHealthyThreshold_SaysHowFarItIs()
    {
        var verdict = Policy.Evaluate(Node(false, null, "3.0.4", healthy: 2));
        Assert.False(verdict.Admitted);
        Assert.Contains("2 of 3", verdict.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_WrongSecret_SaysSo()
    {
        var verdict = Policy.Evaluate(Node(false, "checksumError: Checksums do not match", null));
        Assert.False(verdict.Admitted);
        Assert.Contains("does not accept our secret", verdict.Explanation, StringComparison.Ordinal);
        Assert.Contains("has not reported its BBB version", verdict.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_OnlineButLastPollFailed_IsRefused() =>
        Assert.False(Policy.Evaluate(Node(true, "timeout", "3.0.4")).Admitted);
}
