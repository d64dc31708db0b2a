using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Bbb;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Meetings;

/// <summary>Edge cases where a load balancer can quietly lose a meeting or refuse a client that a BBB server would serve.</summary>
public sealed class EdgeCaseTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Create_WithTheLmsOwnTenantIdMetadata_StaysJoinableAfterAPoll()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("tenanted", ("meta_tenant-id", "someone-else")));
        await pool.PollAsync();

        using var join = await pool.Client.JoinAsync("tenanted");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, join.StatusCode);
        XmlAssert.Success(await pool.Client.CreateAsync("tenanted", ("meta_tenant-id", "someone-else")));
        Assert.Single(pool.Simulators.Servers, s => s.GetMeetings().Any(m => m.MeetingId == "tenanted"));
    }

    [Fact]
    public async Task RepeatCreate_AfterTheMeetingWasEndedInTheClient_CreatesItAgainWithItsVoiceBridge()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var first = await pool.Client.CreateAsync("ended-early");
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "ended-early"));
        owner.EndMeeting("ended-early"); // a moderator pressed End in BBB itself

        var again = await pool.Client.CreateAsync("ended-early");
        XmlAssert.Success(again);
        Assert.NotEqual("duplicateWarning", again.Element("messageKey")?.Value);
        Assert.Single(pool.Simulators.Servers, s => s.GetMeetings().Any(m => m.MeetingId == "ended-early"));
        Assert.Equal(first.Element("voiceBridge")?.Value, again.Element("voiceBridge")?.Value);
    }

    [Fact]
    public async Task Join_ServerAddedOnAnotherReplica_IsResolvedNotForgotten()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("fresh-server"));
        // This replica's snapshot loses the server (as if it had not loaded it yet): the database still has it.
        var dbFactory = pool.ApiService<IDbContextFactory<ScaleliteDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            Assert.Equal(1, await db.Servers.CountAsync());
        }

        using var join = await pool.Client.JoinAsync("fresh-server");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, join.StatusCode);
    }

    [Fact]
    public async Task FormPost_SignedAsTheBbb3ServerDoes_WithSpacesAndUnsortedBody_Works()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        // BBB 3.x: parameters sorted by key, keys raw, values as Java's URLEncoder writes them.
        var signed = "meetingID=post-1&name=My+Room+*%28A%29";
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "create", signed, pool.Client.Secret);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{pool.Client.BaseUrl}/create")
        {
            Content = new StringContent($"name=My%20Room%20*(A)&meetingID=post-1&checksum={checksum}", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        using var response = await pool.Client.Http.SendAsync(request);
        var answer = await BbbTestClient.ReadXmlAsync(response);
        XmlAssert.Success(answer);
    }

    [Fact]
    public async Task AdminDeleteServer_WithScalelitesServerObject_Works()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.Client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "deleteServer", "", pool.Client.Secret);
        using var response = await pool.Client.Http.PostAsJsonAsync($"{admin}/deleteServer?checksum={checksum}", new { server = new { id = pool.ServerIds[0] } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("0")]
    public async Task AdminUpdateServer_LoadMultiplierNotAPositiveNumber_IsRefused(string multiplier)
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.Client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "updateServer", "", pool.Client.Secret);
        var body = "{\"server\":{\"id\":\"" + pool.ServerIds[0] + "\",\"load_multiplier\":" + multiplier + "}}";
        using var response = await pool.Client.Http.PostAsync($"{admin}/updateServer?checksum={checksum}", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.False(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(1.0, (await pool.ApiService<ServerAdministration>().FindAsync(pool.ServerIds[0], default))!.LoadMultiplier);
    }
}
