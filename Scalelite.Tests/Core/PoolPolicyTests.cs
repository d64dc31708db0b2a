using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;

namespace Scalelite.Tests.Core;

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

public class LoadCalculatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static LoadCalculator Calculator(int min = 15, double bufferMinutes = 15)
    {
        var time = new FakeTimeProvider(Now);
        return new LoadCalculator(Options.Create(new LoadOptions { MinUserCount = min, JoinBufferTime = bufferMinutes }), time);
    }

    private static ObservedMeeting M(int users, int moderators = 0, bool breakout = false, int ageMinutes = 60, int videos = 0) =>
        new("id", "internal", users, moderators, videos, breakout, Now.AddMinutes(-ageMinutes), null);

    [Fact]
    public void Observe_OldMeetings_CountUsersAndModerators()
    {
        var o = Calculator().Observe([M(10, 2), M(5)], 1);
        Assert.Equal(17, o.Load);
        Assert.Equal(15, o.Users);
        Assert.Equal(10, o.LargestMeeting);
        Assert.Equal(2, o.Meetings);
    }

    [Fact]
    public void Observe_YoungMeeting_CountsAtLeastTheMinimum()
    {
        Assert.Equal(15, Calculator().Observe([M(2, ageMinutes: 1)], 1).Load);
        Assert.Equal(40, Calculator().Observe([M(40, ageMinutes: 1)], 1).Load);
    }

    [Fact]
    public void Observe_Breakouts_AreExcludedFromLoad()
    {
        var o = Calculator().Observe([M(10), M(4, breakout: true, videos: 3)], 1);
        Assert.Equal(10, o.Load);
        Assert.Equal(14, o.Users);
        Assert.Equal(3, o.Videos);
    }

    [Fact]
    public void Observe_Multiplier_Scales()
    {
        Assert.Equal(25, Calculator().Observe([M(10)], 2.5).Load);
        Assert.Equal(0, Calculator().Observe([], 3).Load);
    }
}

public class ConnectionStringsTests
{
    [Fact]
    public void FromPostgresUrl_ConvertsToKeywords() =>
        Assert.Equal("Host=db.example.com;Port=5433;Username=scalelite;Password=p@ss;Database=scalelite_prod;SSL Mode=require",
            ConnectionStrings.FromPostgresUrl("postgres://scalelite:p%40ss@db.example.com:5433/scalelite_prod?sslmode=require"));

    [Fact]
    public void FromPostgresUrl_KeywordStringPassesThrough() =>
        Assert.Equal("Host=x;Database=y", ConnectionStrings.FromPostgresUrl("Host=x;Database=y"));

    [Fact]
    public void FromRedisUrl_ConvertsToConfiguration() =>
        Assert.Equal("cache:6380,password=pw,defaultDatabase=2", ConnectionStrings.FromRedisUrl("redis://:pw@cache:6380/2"));

    [Fact]
    public void ScaleliteNames_MapOntoOurKeys_AndOurKeysWin()
    {
        var env = new Dictionary<string, string> { ["POLL_INTERVAL"] = "7", ["SERVER_UNHEALTHY_THRESHOLD"] = "4" };
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Poller:UnhealthyThreshold"] = "9" })
            .AddScaleliteEnvironment(name => env.GetValueOrDefault(name))
            .Build();
        Assert.Equal("7", config["Poller:Interval"]);
        Assert.Equal("9", config["Poller:UnhealthyThreshold"]);
    }
}
