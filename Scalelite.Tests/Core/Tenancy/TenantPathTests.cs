using Scalelite.Core.Tenancy;

namespace Scalelite.Tests.Core.Tenancy;

/// <summary>Where a request's tenant name is read: the host's first label under URL_HOST, or /t/NAME.</summary>
public class TenantPathTests
{
    [Theory]
    [InlineData("school1.lb.example.com", "lb.example.com", "school1")]
    [InlineData("School1.LB.example.com:8443", "lb.example.com", "School1")]
    [InlineData("school1.lb.example.com.", "lb.example.com", "school1")]
    [InlineData("a.b.lb.example.com", "lb.example.com", "a")]
    [InlineData("lb.example.com", "lb.example.com", "")]
    [InlineData("lb.example.com:443", "lb.example.com", "")]
    [InlineData("xlb.example.com", "lb.example.com", "")]
    [InlineData("school1.other.org", "lb.example.com", "")]
    [InlineData("10.1.2.3:80", "lb.example.com", "")]
    [InlineData("[::1]:80", "lb.example.com", "")]
    [InlineData("", "lb.example.com", "")]
    [InlineData("bn.api.example.com", null, "bn")]
    [InlineData("localhost:5000", null, "")]
    [InlineData("10.1.2.3", null, "")]
    public void HostLabel_Host_IsTheFirstLabelUnderUrlHost(string host, string? urlHost, string expected) =>
        Assert.Equal(expected, TenantPath.HostLabel(host, TenantPath.NormalizeHost(urlHost)).ToString());

    [Theory]
    [InlineData("lb.example.com", "lb.example.com")]
    [InlineData("LB.Example.com:8080", "lb.example.com")]
    [InlineData("https://lb.example.com/", "lb.example.com")]
    [InlineData("127.0.0.1:5123", "127.0.0.1")]
    [InlineData("  ", null)]
    [InlineData(null, null)]
    public void NormalizeHost_UrlHost_IsLowerCaseWithoutSchemeOrPort(string? urlHost, string? expected) =>
        Assert.Equal(expected, TenantPath.NormalizeHost(urlHost));

    [Theory]
    [InlineData("/t/school1", "school1")]
    [InlineData("/t/", "")]
    [InlineData("/t", "")]
    [InlineData("", "")]
    [InlineData("/base", "")]
    public void NameOf_PathBase_IsTheTenantSegment(string pathBase, string expected) =>
        Assert.Equal(expected, TenantPath.NameOf(pathBase).ToString());

    [Fact]
    public void Parameters_SettingsOfEachScope_ApplyWhereTheySay()
    {
        var parameters = TenantParameters.From(
        [
            ("record", "false", false, TenantSettingScope.All),
            ("meta_server-tag", "school!", true, TenantSettingScope.All),
            ("welcome", "hi", true, TenantSettingScope.Create),
            ("userdata-bbb_skip_check_audio", "true", false, TenantSettingScope.Join),
        ]);

        Assert.Equal(["record"], parameters.CreateDefaults.Select(p => p.Key));
        Assert.Equal(["meta_server-tag", "welcome"], parameters.CreateOverrides.Select(p => p.Key));
        Assert.Equal(["record", "userdata-bbb_skip_check_audio"], parameters.JoinDefaults.Select(p => p.Key));
        Assert.Empty(parameters.JoinOverrides);
        Assert.Same(TenantParameters.None, TenantParameters.From([]));
    }
}
