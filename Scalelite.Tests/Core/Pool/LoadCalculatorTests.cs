using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;

namespace Scalelite.Tests.Core.Pool;

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

    [Fact]
    public void Settle_Reservations_AreCountedWithTheirMeeting_PendingWhenPlacedSinceThePoll_ElseDropped()
    {
        var reported = new ObservedMeeting("reported", "internal", 2, 0, 0, false, Now.AddMinutes(-1), null);
        var reservations = new Dictionary<string, SeatReservation>
        {
            [reported.Member] = new(15, Now.AddMinutes(-1), 15, 0),
            [":in-flight"] = new(40, Now.AddSeconds(-5), 40, 25), // placed after the cutoff, not reported yet
            [":never-arrived"] = new(15, Now.AddMinutes(-2), 15, 0), // placed before the cutoff, not reported
            [":faded"] = new(15, Now.AddMinutes(-20), 15, 0), // older than the buffer time
        };

        var settled = Calculator().Settle([reported], 1, reservations, cutoff: Now.AddSeconds(-30));

        Assert.Equal([":in-flight", reported.Member], settled.Accounted.Order(StringComparer.Ordinal));
        Assert.Equal([":faded", ":never-arrived"], settled.Dropped.Order(StringComparer.Ordinal));
        // The reported meeting counts its minimum; the in-flight one its whole (barely faded) reservation, the part
        // above the minimum being hinted seats.
        var inFlight = 40 * (1 - (5 / 900.0));
        Assert.Equal(15 + inFlight, settled.Observation.Load, precision: 6);
        Assert.Equal(inFlight - 15, settled.Observation.HintLoad, precision: 6);
        Assert.Equal(1, settled.Observation.Meetings);
    }

    [Fact]
    public void Settle_NoReservations_IsTheObservedLoad()
    {
        var settled = Calculator().Settle([M(10, 2)], 2, new Dictionary<string, SeatReservation>(), Now);
        Assert.Equal(24, settled.Observation.Load);
        Assert.Empty(settled.Accounted);
        Assert.Empty(settled.Dropped);
    }
}
