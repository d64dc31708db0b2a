using Scalelite.Core.Bbb;

namespace Scalelite.Tests.Core.Bbb;

public class BbbParametersTests
{
    [Fact]
    public void TryParse_DecodesPlusAndPercent()
    {
        Assert.True(BbbParameters.TryParse("name=Test+Meeting&meetingID=a%20b%26c&empty=&flag", out var p));
        Assert.Equal("Test Meeting", p["name"]);
        Assert.Equal("a b&c", p["meetingID"]);
        Assert.Equal("", p["empty"]);
        Assert.Equal("", p["flag"]);
        Assert.Null(p["missing"]);
    }

    [Fact]
    public void TryParse_Utf8_Decodes()
    {
        Assert.True(BbbParameters.TryParse("fullName=J%C3%BCrgen", out var p));
        Assert.Equal("Jürgen", p["fullName"]);
    }

    [Theory]
    [InlineData("fullName=%FF%FE")]
    [InlineData("fullName=%C3")]
    [InlineData("%ED%A0%80=x")]
    public void TryParse_InvalidUtf8_Fails(string query) => Assert.False(BbbParameters.TryParse(query, out _));

    [Fact]
    public void ToQueryString_RoundTrips()
    {
        var p = new BbbParameters().Add("meetingID", "a b&c=d").Add("name", "Jürgen+1");
        Assert.True(BbbParameters.TryParse(p.ToQueryString(), out var back));
        Assert.Equal("a b&c=d", back["meetingID"]);
        Assert.Equal("Jürgen+1", back["name"]);
    }

    [Fact]
    public void Set_ReplacesAllCopiesAtTheFirstPosition()
    {
        var p = new BbbParameters().Add("a", "1").Add("b", "2").Add("a", "3");
        p.Set("a", "9");
        Assert.Equal("a=9&b=2", p.ToQueryString());
    }
}
