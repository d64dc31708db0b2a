using Microsoft.Extensions.Configuration;
using Scalelite.Api.FreeSwitch;
using Scalelite.Core.Configuration;

namespace Scalelite.Tests.Api.FreeSwitch;

/// <summary>Scalelite's dial-in variables, read from an existing Scalelite environment.</summary>
public sealed class FsApiOptionsTests
{
    private static (FsApiOptions FsApi, ScaleliteOptions Balancer, IConfiguration Configuration) Read(params (string Name, string Value)[] environment)
    {
        var values = environment.ToDictionary(e => e.Name, e => e.Value);
        var configuration = new ConfigurationBuilder().AddScaleliteEnvironment(values.GetValueOrDefault).Build();
        return (configuration.GetSection(FsApiOptions.Section).Get<FsApiOptions>() ?? new FsApiOptions(),
            configuration.GetSection(ScaleliteOptions.Section).Get<ScaleliteOptions>() ?? new ScaleliteOptions(), configuration);
    }

    [Fact]
    public void EffectivePassword_FsapiPasswordUnset_IsTheFirstLoadBalancerSecret()
    {
        var (fsapi, balancer, _) = Read(("LOADBALANCER_SECRET", "first"), ("LOADBALANCER_SECRETS", "second:third"));
        Assert.Equal("first", fsapi.EffectivePassword(balancer));

        (fsapi, balancer, _) = Read(("LOADBALANCER_SECRETS", "second:third"));
        Assert.Equal("second", fsapi.EffectivePassword(balancer));
    }

    [Fact]
    public void EffectivePassword_FsapiPasswordEmpty_TurnsAuthenticationOff()
    {
        var (fsapi, balancer, _) = Read(("LOADBALANCER_SECRET", "first"), ("FSAPI_PASSWORD", ""));
        Assert.Null(fsapi.EffectivePassword(balancer));
    }

    [Fact]
    public void EffectivePassword_FsapiPasswordSet_IsThatPassword()
    {
        var (fsapi, balancer, _) = Read(("LOADBALANCER_SECRET", "first"), ("FSAPI_PASSWORD", "dial"));
        Assert.Equal("dial", fsapi.EffectivePassword(balancer));
    }

    [Fact]
    public void AddScaleliteEnvironment_OtherEmptyVariable_StillMeansUnset()
    {
        var (_, _, configuration) = Read(("POLL_INTERVAL", ""));
        Assert.Null(configuration["Poller:Interval"]);
    }

    [Theory]
    [InlineData(null, null, 0)]
    [InlineData(null, "90", 5400)]
    [InlineData("30", "90", 1800)]
    [InlineData("0", "90", 0)]
    public void HangUpAfterSeconds_FsapiMaxDuration_DefaultsToMaxMeetingDuration(string? fsapiMax, string? meetingMax, long expected)
    {
        var environment = new List<(string, string)>();
        if (fsapiMax is not null)
        {
            environment.Add(("FSAPI_MAX_DURATION", fsapiMax));
        }

        if (meetingMax is not null)
        {
            environment.Add(("MAX_MEETING_DURATION", meetingMax));
        }

        var (fsapi, balancer, _) = Read([.. environment]);
        Assert.Equal(expected, fsapi.HangUpAfterSeconds(balancer));
    }

    [Fact]
    public void VoiceBridgeBounds_ScaleliteVariables_AreRead()
    {
        var (fsapi, _, _) = Read(("VOICE_BRIDGE_MIN", "4"), ("VOICE_BRIDGE_MAX", "11"));
        Assert.Equal((4, 11), (fsapi.VoiceBridgeMin, fsapi.VoiceBridgeMax));
        Assert.Equal((5, 9), (new FsApiOptions().VoiceBridgeMin, new FsApiOptions().VoiceBridgeMax));
    }
}
