using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;

namespace Scalelite.Tests.Core.Pool.Health;

public sealed class UnsavedVerdictsTests
{
    private static readonly DateTimeOffset Polled = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static Server Record() => new() { Id = "s1", Url = "http://bbb1/bigbluebutton/api", Secret = "x", State = ServerState.Enabled, Online = true, Load = 12, LastPolledAt = Polled };

    [Fact]
    public void Apply_VerdictFromALaterPoll_OverridesTheRecord()
    {
        var snapshot = UnsavedVerdicts.Apply(Record(), new HealthVerdict(false, null, Polled.AddMinutes(2)));

        Assert.False(snapshot.Online);
        Assert.Null(snapshot.Load);
        Assert.False(snapshot.Placeable);
    }

    [Fact]
    public void Apply_RecordNewerThanTheVerdict_WinsAsAnOperatorsProbe()
    {
        var snapshot = UnsavedVerdicts.Apply(Record(), new HealthVerdict(false, null, Polled.AddSeconds(-30)));

        Assert.True(snapshot.Online);
        Assert.Equal(12, snapshot.Load);
    }

    [Fact]
    public void Apply_OnlineVerdict_BringsItsLoad()
    {
        var record = Record();
        record.Online = false;
        record.Load = null;

        var snapshot = UnsavedVerdicts.Apply(record, new HealthVerdict(true, 3.5, Polled.AddMinutes(1)));

        Assert.True(snapshot.Placeable);
        Assert.Equal(3.5, snapshot.Load);
    }

    [Theory]
    [InlineData(true, 7.25)]
    [InlineData(true, null)]
    [InlineData(false, null)]
    public void Serialize_ThenParse_GivesTheVerdictBack(bool online, double? load)
    {
        var verdict = new HealthVerdict(online, load, Polled);

        Assert.Equal(verdict, UnsavedVerdicts.Parse(UnsavedVerdicts.Serialize(verdict)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("2|1|1")]
    [InlineData("1|1")]
    [InlineData("1|1|soon")]
    public void Parse_Malformed_IsNull(string value) => Assert.Null(UnsavedVerdicts.Parse(value));
}
