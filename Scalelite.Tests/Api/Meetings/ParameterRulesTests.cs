using Microsoft.Extensions.Options;
using Scalelite.Api.Meetings;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;

namespace Scalelite.Tests.Api.Meetings;

public class ParameterRulesTests
{
    [Fact]
    public void ApplyCreate_DefaultsRequestOverridesExcludes_InPrecedenceOrder()
    {
        var rules = new ParameterRules(Options.Create(new ScaleliteOptions
        {
            DefaultCreateParams = "record=true,welcome=hi",
            OverrideCreateParams = "maxParticipants=50",
            CreateExcludeParams = "logo",
        }));
        var request = new BbbParameters().Add("meetingID", "m").Add("welcome", "mine").Add("maxParticipants", "999").Add("logo", "x");

        var result = rules.ApplyCreate(request);

        Assert.Equal("true", result["record"]);
        Assert.Equal("mine", result["welcome"]);
        Assert.Equal("50", result["maxParticipants"]);
        Assert.Null(result["logo"]);
        Assert.Equal("999", request["maxParticipants"]);
    }

    [Fact]
    public void ApplyJoin_NoRules_KeepsTheRequest()
    {
        var rules = new ParameterRules(Options.Create(new ScaleliteOptions()));
        var result = rules.ApplyJoin(new BbbParameters().Add("fullName", "A").Add("meetingID", "m"));
        Assert.Equal("fullName=A&meetingID=m", result.ToQueryString());
    }

    [Theory]
    [InlineData("m1", 9)]
    [InlineData("another meeting", 5)]
    public void VoiceBridge_Derive_HasTheLengthAndNoLeadingZero(string member, int length)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var number = VoiceBridges.Derive(member, attempt, length);
            Assert.Equal(length, number.Length);
            Assert.NotEqual('0', number[0]);
            Assert.All(number, c => Assert.True(char.IsAsciiDigit(c)));
        }

        Assert.Equal(VoiceBridges.Derive(member, 0, length), VoiceBridges.Derive(member, 0, length));
    }
}
