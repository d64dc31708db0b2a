using Microsoft.Extensions.Options;
using Scalelite.Api.Meetings;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Tenancy;

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
    public void ApplyCreate_TenantSettings_SlotBetweenTheGlobalRulesAndTheRequest()
    {
        var rules = new ParameterRules(Options.Create(new ScaleliteOptions
        {
            DefaultCreateParams = "p1=global,p2=global",
            OverrideCreateParams = "p4=global,p5=global",
            CreateExcludeParams = "p6",
        }));
        var tenant = new Tenant("t", "t", ["s"])
        {
            Parameters = TenantParameters.From(
            [
                ("p1", "tenant", false, TenantSettingScope.All),
                ("p3", "tenant", false, TenantSettingScope.All),
                ("p5", "tenant", true, TenantSettingScope.All),
                ("p6", "tenant", true, TenantSettingScope.All),
            ]),
        };
        var request = new BbbParameters().Add("meetingID", "m").Add("p3", "request").Add("p4", "request").Add("p5", "request").Add("p6", "request");

        var result = rules.ApplyCreate(request, tenant);

        Assert.Equal("tenant", result["p1"]);   // global default < tenant default
        Assert.Equal("global", result["p2"]);   // a global default alone
        Assert.Equal("request", result["p3"]);  // tenant default < request
        Assert.Equal("global", result["p4"]);   // request < global override
        Assert.Equal("tenant", result["p5"]);   // global override < tenant override
        Assert.Equal("tenant", result["p6"]);   // excluded from the request, set by the tenant's override
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
