using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool.Health;

namespace Scalelite.Tests.Core.Pool.Health;

public class HealthPolicyTests
{
    private static HealthPolicy Policy(int healthy = 2, int unhealthy = 3) =>
        new(Options.Create(new PollerOptions { HealthyThreshold = healthy, UnhealthyThreshold = unhealthy }));

    [Fact]
    public void Next_OnlineServer_GoesOfflineOnlyAtThreshold()
    {
        var policy = Policy();
        var state = new HealthState(true, 0, 0);
        state = policy.Next(state, false);
        state = policy.Next(state, false);
        Assert.True(state.Online);
        state = policy.Next(state, false);
        Assert.False(state.Online);
    }

    [Fact]
    public void Next_SuccessInBetween_ResetsTheFailureStreak()
    {
        var policy = Policy();
        var state = new HealthState(true, 0, 0);
        foreach (var ok in new[] { false, false, true, false, false })
        {
            state = policy.Next(state, ok);
        }

        Assert.True(state.Online);
    }

    [Fact]
    public void Next_OfflineServer_ComesBackAfterHealthyThreshold()
    {
        var policy = Policy();
        var state = new HealthState(false, 0, 0);
        state = policy.Next(state, true);
        Assert.False(state.Online);
        state = policy.Next(state, false);
        state = policy.Next(state, true);
        Assert.False(state.Online);
        state = policy.Next(state, true);
        Assert.True(state.Online);
    }
}
