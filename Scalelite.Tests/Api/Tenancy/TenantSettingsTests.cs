using System.Net;
using Scalelite.BbbSimulator;
using Scalelite.Core.Pool;
using Scalelite.Core.Tenancy;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Tenancy;

/// <summary>A pool with global create and join defaults and overrides, and a server tagged <c>school</c>.</summary>
public sealed class TenantSettingsFixture : IAsyncLifetime
{
    private readonly InfrastructureFixture _infrastructure = new();

    public PoolHarness Pool { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _infrastructure.InitializeAsync();
        Pool = await TenantPool.StartAsync(_infrastructure, simulators: 2,
            ("Scalelite:DefaultCreateParams", "meta_r1=global,meta_r2=global"),
            ("Scalelite:OverrideCreateParams", "meta_r3=global,meta_r4=global"),
            ("Scalelite:DefaultJoinParams", "userdata-r1=global,userdata-r2=global"),
            ("Scalelite:OverrideJoinParams", "userdata-r3=global,userdata-r4=global"));
        var tagged = await Pool.ApiService<ServerAdministration>().UpdateAsync(Pool.ServerIds[0], new ServerAdministration.Update(null, null, null, "school", true), CancellationToken.None);
        Assert.True(tagged.Succeeded, tagged.Error);
        await Pool.PollAsync();
    }

    public async Task DisposeAsync() => await Pool.DisposeAsync();
}

/// <summary>
/// Tenant settings in Scalelite's precedence, each rule checked on what the BBB server received:
/// <c>DEFAULT_*_PARAMS</c> &lt; tenant defaults &lt; request &lt; <c>OVERRIDE_*_PARAMS</c> &lt; tenant overrides, for create and join.
/// </summary>
public sealed class TenantSettingsTests(TenantSettingsFixture fixture) : IClassFixture<TenantSettingsFixture>
{
    private PoolHarness Pool => fixture.Pool;

    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 9)];

    /// <summary>A new tenant with these settings, and its LMS.</summary>
    private async Task<BbbTestClient> TenantAsync(string name, params (string Param, string Value, bool Override)[] settings)
    {
        await Pool.AddTenantAsync(name, name + "-secret");
        foreach (var (param, value, isOverride) in settings)
        {
            await Pool.AddSettingAsync(name, param, value, isOverride);
        }

        return Pool.HostClient(name, name + "-secret");
    }

    /// <summary>Creates a meeting and joins it (following the redirect to the server): what the server received for each.</summary>
    private async Task<(ReceivedCall Create, ReceivedCall Join)> CreateAndJoinAsync(BbbTestClient lms, (string, string)[] create, (string, string)[] join)
    {
        var meetingId = Unique("m");
        XmlAssert.Success(await lms.CreateAsync(meetingId, create));
        var user = Unique("user");
        using var redirect = await lms.JoinAsync(meetingId, user, join);
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        using var landing = await Pool.Client.Http.GetAsync(redirect.Headers.Location);
        var calls = Pool.Simulators.Servers.SelectMany(s => s.GetReceivedCalls()).ToList();
        return (calls.Last(c => c.Call == "create" && c["meetingID"] == meetingId), calls.Last(c => c.Call == "join" && c["fullName"] == user));
    }

    [Fact]
    public async Task GlobalDefault_TenantDefaultForTheSameParameter_TheTenantsWins()
    {
        using var lms = await TenantAsync(Unique("rule1"), ("meta_r1", "tenant", false), ("userdata-r1", "tenant", false));
        var (create, join) = await CreateAndJoinAsync(lms, [], []);
        Assert.Equal("tenant", create["meta_r1"]);
        Assert.Equal("tenant", join["userdata-r1"]);
        // Where the tenant says nothing, the global default still applies.
        Assert.Equal("global", create["meta_r2"]);
        Assert.Equal("global", join["userdata-r2"]);
    }

    [Fact]
    public async Task TenantDefault_RequestGivesTheParameter_TheRequestWins()
    {
        using var lms = await TenantAsync(Unique("rule2"), ("meta_r2", "tenant", false), ("userdata-r2", "tenant", false));
        var (create, join) = await CreateAndJoinAsync(lms, [("meta_r2", "request")], [("userdata-r2", "request")]);
        Assert.Equal("request", create["meta_r2"]);
        Assert.Equal("request", join["userdata-r2"]);
    }

    [Fact]
    public async Task Request_GlobalOverrideForTheSameParameter_TheOverrideWins()
    {
        using var lms = await TenantAsync(Unique("rule3"));
        var (create, join) = await CreateAndJoinAsync(lms, [("meta_r3", "request")], [("userdata-r3", "request")]);
        Assert.Equal("global", create["meta_r3"]);
        Assert.Equal("global", join["userdata-r3"]);
    }

    [Fact]
    public async Task GlobalOverride_TenantOverrideForTheSameParameter_TheTenantsWins()
    {
        using var lms = await TenantAsync(Unique("rule4"), ("meta_r4", "tenant", true), ("userdata-r4", "tenant", true));
        var (create, join) = await CreateAndJoinAsync(lms, [("meta_r4", "request")], [("userdata-r4", "request")]);
        Assert.Equal("tenant", create["meta_r4"]);
        Assert.Equal("tenant", join["userdata-r4"]);
    }

    [Fact]
    public async Task TenantSettings_OfOneTenant_ReachNoOtherTenantsCalls()
    {
        using var first = await TenantAsync(Unique("own"), ("meta_only-mine", "yes", true));
        using var second = await TenantAsync(Unique("other"));
        var (mine, _) = await CreateAndJoinAsync(first, [], []);
        var (theirs, _) = await CreateAndJoinAsync(second, [], []);
        Assert.Equal("yes", mine["meta_only-mine"]);
        Assert.Null(theirs["meta_only-mine"]);
    }

    [Fact]
    public async Task ServerTag_TenantOverride_PinsTheTenantToItsServersAndStrictlyWithBang()
    {
        var school = Unique("school");
        using var pinned = await TenantAsync(school, ("meta_server-tag", "school!", true));
        for (var i = 0; i < 4; i++)
        {
            // Whatever the LMS asks for, the tenant's meetings land on the tagged server only.
            var meetingId = Unique("pin");
            XmlAssert.Success(await pinned.CreateAsync(meetingId, ("meta_server-tag", "none")));
            Assert.Contains(Pool.Simulator(Pool.ServerIds[0]).GetMeetings(), m => m.MeetingId == meetingId);
        }

        // A required tag no server has: refused, not placed elsewhere.
        var nowhere = Unique("nowhere");
        using var strict = await TenantAsync(nowhere, ("meta_server-tag", "gone!", true));
        XmlAssert.Failed(await strict.CreateAsync(Unique("m")), "serverTagUnavailable");

        // The tag is placement's: it is not appended to joins.
        var (create, join) = await CreateAndJoinAsync(pinned, [], []);
        Assert.StartsWith("school", create["meta_server-tag"], StringComparison.Ordinal);
        Assert.Null(join["meta_server-tag"]);
    }

    [Fact]
    public async Task Scope_CreateOnlyAndJoinOnlySettings_ApplyOnlyThere()
    {
        var name = Unique("scope");
        await Pool.AddTenantAsync(name, name + "-secret");
        await Pool.AddSettingAsync(name, "meta_create-only", "c", isOverride: true, TenantSettingScope.Create);
        await Pool.AddSettingAsync(name, "userdata-join-only", "j", isOverride: true, TenantSettingScope.Join);
        using var lms = Pool.HostClient(name, name + "-secret");
        var (create, join) = await CreateAndJoinAsync(lms, [], []);
        Assert.Equal("c", create["meta_create-only"]);
        Assert.Null(create["userdata-join-only"]);
        Assert.Equal("j", join["userdata-join-only"]);
        Assert.Null(join["meta_create-only"]);
    }
}
