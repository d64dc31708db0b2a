using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;

namespace Scalelite.Tests.Core.Monitoring;

/// <summary>The poll tracker as a Poller instance stops and starts leading.</summary>
public sealed class PollTrackerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Reset_AfterACycle_ForgetsTheServersAndTheCycle()
    {
        var tracker = new PollTracker(_time);
        tracker.CycleFinished([new Server { Id = "a", Url = "https://a/bigbluebutton/api", Secret = "s", Online = true }],
            [new ProbeResult(true, [], null, _time.GetUtcNow())]);
        Assert.Single(tracker.Servers);

        _time.Advance(TimeSpan.FromMinutes(5));
        tracker.Reset();

        Assert.Empty(tracker.Servers);
        Assert.Null(tracker.LastCycleAt);
        Assert.Equal(_time.GetUtcNow(), tracker.StartedAt);
    }

    [Fact]
    public void Resumed_NoCycleSinceTheStart_CountsFromNow()
    {
        var tracker = new PollTracker(_time);
        _time.Advance(TimeSpan.FromHours(1));

        tracker.Resumed();

        Assert.Equal(_time.GetUtcNow(), tracker.StartedAt);
    }

    [Fact]
    public void Resumed_AfterACycle_KeepsTheCycle()
    {
        var tracker = new PollTracker(_time);
        var started = tracker.StartedAt;
        tracker.CycleFinished([], []);
        var finished = tracker.LastCycleAt;
        _time.Advance(TimeSpan.FromSeconds(30));

        tracker.Resumed();

        Assert.Equal(started, tracker.StartedAt);
        Assert.Equal(finished, tracker.LastCycleAt);
    }
}
