using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;

namespace Scalelite.Tests.Core.Pool.Placement;

/// <summary>The load model and ghost seats, in virtual time.</summary>
public class PlacementLoadTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static LoadCalculator Calculator(LoadOptions? o = null) => new(Options.Create(o ?? new LoadOptions()), new FakeTimeProvider(Now));

    private static ObservedMeeting M(string id, int users, int moderators = 0, int ageMinutes = 60, int videos = 0) =>
        new(id, "internal", users, moderators, videos, false, Now.AddMinutes(-ageMinutes), null);

    private static SeatReservation R(int seats, double ageMinutes, double multiplier = 1) =>
        Calculator().Reservation(seats, multiplier) with { PlacedAt = Now.AddMinutes(-ageMinutes) };

    [Theory]
    [InlineData(null, null, 15)]
    [InlineData("100", null, 100)]
    [InlineData("100", "40", 100)]
    [InlineData(null, "40", 40)]
    [InlineData("5", null, 15)]
    [InlineData("nonsense", "-3", 15)]
    [InlineData("50000", null, 1000)]
    public void ReserveSeats_HintOrMaxParticipants_AtLeastTheMinimumAndCapped(string? hint, string? maxParticipants, int expected) =>
        Assert.Equal(expected, Calculator().ReserveSeats(hint, maxParticipants));

    [Fact]
    public void Reservation_HintedSeats_AreBumpedWholeAndTheirHintPartReported()
    {
        var r = Calculator().Reservation(100, 2);
        Assert.Equal(200, r.Bump);
        Assert.Equal(170, r.HintBump);
        Assert.Equal(0, Calculator().Reservation(15, 2).HintBump);
        Assert.Equal(r, SeatReservation.Parse(r.Serialize()));
    }

    [Fact]
    public void RemainingSeats_HintFadesLinearly_MinimumStaysWholeUntilTheBufferEnds()
    {
        var c = Calculator();
        Assert.Equal(100, c.RemainingSeats(100, TimeSpan.Zero));
        Assert.Equal(50, c.RemainingSeats(100, TimeSpan.FromMinutes(7.5)), 6);
        Assert.Equal(15, c.RemainingSeats(100, TimeSpan.FromMinutes(14)));
        Assert.Equal(15, c.RemainingSeats(15, TimeSpan.FromMinutes(14.9)));
        Assert.Equal(0, c.RemainingSeats(100, TimeSpan.FromMinutes(15)));
    }

    [Fact]
    public void Observe_YoungMeetingWithHint_CountsTheLargerOfUsersAndRemainingSeats()
    {
        var c = Calculator();
        var reservations = new Dictionary<string, SeatReservation> { [":a"] = R(100, 7.5), [":b"] = R(100, 7.5) };
        var o = c.Observe([M("a", 20, ageMinutes: 7), M("b", 80, ageMinutes: 7)], 1, reservations, []);
        Assert.Equal(50 + 80, o.Load, 6);
        Assert.Equal(50 - 20, o.HintLoad, 6);
    }

    [Fact]
    public void Observe_PendingReservation_CountsWhole()
    {
        var o = Calculator().Observe([M("a", 3)], 2, null, [R(100, 0), R(15, 0)]);
        Assert.Equal((3 + 100 + 15) * 2, o.Load);
        Assert.Equal(85 * 2, o.HintLoad);
    }

    [Fact]
    public void Observe_Weights_CountVideosAndMeetings()
    {
        var c = Calculator(new LoadOptions { UserWeight = 1, ModeratorWeight = 0, VideoWeight = 2, MeetingWeight = 5 });
        Assert.Equal((10 + (2 * 3) + 5) + (4 + 5), c.Observe([M("a", 10, moderators: 2, videos: 3), M("b", 4)], 1).Load);
    }

    [Fact]
    public void Observe_DefaultWeights_AreScalelitesFormula()
    {
        Assert.Equal(12 + 15, Calculator().Observe([M("a", 10, moderators: 2, videos: 9), M("b", 2, ageMinutes: 1)], 1).Load);
    }
}
