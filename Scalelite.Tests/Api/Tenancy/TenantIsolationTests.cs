using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Tenancy;

/// <summary>
/// Three tenants on one pool, two by host and one by path: none can see, join, end, get info on, list or re-create
/// another's meetings, even knowing their IDs; and who is let in at all.
/// </summary>
public sealed class TenantIsolationTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private sealed record Lms(string Name, BbbTestClient Client, string TenantId) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    private static async Task<(Lms One, Lms Two, Lms Three)> TenantsAsync(PoolHarness pool)
    {
        var one = await pool.AddTenantAsync("one", "one-secret");
        var two = await pool.AddTenantAsync("two", "two-secret");
        var three = await pool.AddTenantAsync("three", "three-secret");
        return (new Lms("one", pool.HostClient("one", "one-secret"), one.Id),
                new Lms("two", pool.HostClient("two", "two-secret"), two.Id),
                new Lms("three", pool.PathClient("three", "three-secret"), three.Id));
    }

    [Fact]
    public async Task Meetings_ThreeTenants_NoneReachesAnothersMeetingEvenKnowingItsId()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure);
        var (one, two, three) = await TenantsAsync(pool);
        using var _1 = one;
        using var _2 = two;
        using var _3 = three;

        // An LMS cannot pass itself off as another tenant: the marks are set by the load balancer.
        XmlAssert.Success(await one.Client.CreateAsync("class-1", ("meta_tenant-id", two.TenantId), ("meta_tenant-name", "two")));
        XmlAssert.Success(await three.Client.CreateAsync("class-3"));
        XmlAssert.Success(await two.Client.CreateAsync("class-2"));
        var sent = pool.Simulators.Servers.SelectMany(s => s.GetReceivedCalls("create")).Single(c => c["meetingID"] == "class-1");
        Assert.Equal(one.TenantId, sent["meta_tenant-id"]);
        Assert.Equal("one", sent["meta_tenant-name"]);

        foreach (var (intruder, victim, meetingId) in new[] { (two, one, "class-1"), (three, one, "class-1"), (one, three, "class-3"), (one, two, "class-2") })
        {
            var because = $"{intruder.Name} asking for {victim.Name}'s {meetingId}";
            using (var join = await intruder.Client.JoinAsync(meetingId))
            {
                XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(join), "notFound");
            }

            XmlAssert.Failed(await intruder.Client.CallAsync("getMeetingInfo", ("meetingID", meetingId)), "notFound");
            var running = await intruder.Client.CallAsync("isMeetingRunning", ("meetingID", meetingId));
            XmlAssert.Success(running);
            Assert.True(running.Element("running")!.Value == "false", because);
            XmlAssert.Failed(await intruder.Client.CallAsync("sendChatMessage", ("meetingID", meetingId), ("message", "hello")), "notFound");
            using (var insert = await intruder.Client.Http.PostAsync(
                intruder.Client.Url("insertDocument", BbbTestClient.Query(("meetingID", meetingId))),
                new StringContent("<modules><module name=\"presentation\"><document url=\"https://example.org/a.pdf\"/></module></modules>", Encoding.UTF8, "application/xml")))
            {
                XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(insert), "notFound");
            }

            XmlAssert.Failed(await intruder.Client.CallAsync("end", ("meetingID", meetingId)), "notFound");
            Assert.DoesNotContain(meetingId, await MeetingIdsAsync(intruder.Client));

            // The victim's meeting is untouched by all of it.
            var info = await victim.Client.CallAsync("getMeetingInfo", ("meetingID", meetingId));
            XmlAssert.Success(info);
            Assert.Equal(meetingId, info.Element("meetingID")!.Value);
        }

        // getMeetings lists each tenant's own; the bare host (the default tenant) none of theirs.
        Assert.Equal(["class-1"], await MeetingIdsAsync(one.Client));
        Assert.Equal(["class-2"], await MeetingIdsAsync(two.Client));
        Assert.Equal(["class-3"], await MeetingIdsAsync(three.Client));
        Assert.Empty(await MeetingIdsAsync(pool.Client));

        // A meeting ID another tenant runs cannot be taken, and the other tenant's meeting is unchanged.
        var taken = await two.Client.CreateAsync("class-1", ("attendeePW", "a"), ("moderatorPW", "m"));
        XmlAssert.Failed(taken, "idNotUnique");
        Assert.Single(pool.Simulators.Servers.SelectMany(s => s.GetMeetings()), m => m.MeetingId == "class-1");
        using (var join = await one.Client.JoinAsync("class-1"))
        {
            Assert.Equal(HttpStatusCode.Found, join.StatusCode);
        }

        // The owner can still end its own meeting; then the ID is free for another tenant.
        XmlAssert.Success(await one.Client.CallAsync("end", ("meetingID", "class-1")));
        XmlAssert.Success(await two.Client.CreateAsync("class-1"));
        Assert.Equal(["class-1", "class-2"], await MeetingIdsAsync(two.Client));
    }

    [Fact]
    public async Task Resolve_UnknownMissingOrForeignTenant_IsRefusedAndTenantSecretsOpenNoAdminApi()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1);
        var (one, two, three) = await TenantsAsync(pool);
        using var _1 = one;
        using var _2 = two;
        using var _3 = three;
        XmlAssert.Success(await one.Client.CallAsync("getMeetings"));
        XmlAssert.Success(await three.Client.CallAsync("getMeetings"));

        // Unknown host tenant, unknown path tenant, a tenant's secret on another's host or path, host and path disagreeing.
        using var unknownHost = new BbbTestClient(pool.ApiBase, "one-secret", $"nobody.{TenantPool.UrlHost}");
        using var unknownPath = new BbbTestClient(TenantPool.PathBase(pool.ApiBase, "nobody"), "one-secret");
        using var oneOnTwo = new BbbTestClient(pool.ApiBase, "one-secret", $"two.{TenantPool.UrlHost}");
        using var oneOnThree = new BbbTestClient(TenantPool.PathBase(pool.ApiBase, "three"), "one-secret");
        using var mixed = new BbbTestClient(TenantPool.PathBase(pool.ApiBase, "three"), "three-secret", $"one.{TenantPool.UrlHost}");
        using var oneOnBare = new BbbTestClient(pool.ApiBase, "one-secret");
        using var balancerOnOne = new BbbTestClient(pool.ApiBase, PoolHarness.Secret, $"one.{TenantPool.UrlHost}");
        foreach (var client in new[] { unknownHost, unknownPath, oneOnTwo, oneOnThree, mixed, oneOnBare, balancerOnOne })
        {
            XmlAssert.Failed(await client.CallAsync("getMeetings"), "checksumError");
        }

        // The bare host serves the default tenant with the load balancer's secret (Tenancy:DefaultTenant).
        XmlAssert.Success(await pool.Client.CallAsync("getMeetings"));

        // Tenant secrets open neither Scalelite's admin API nor the operator API, on any host.
        var admin = one.Client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "getServers", string.Empty, "one-secret");
        using (var refused = await one.Client.Http.GetAsync($"{admin}/getServers?checksum={checksum}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("\"messageKey\":\"checksumError\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{one.Client.Origin}/api/v1/servers");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "one-secret");
        using var response = await one.Client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        // Nor does a path prefix lead to them.
        using var viaPath = new HttpRequestMessage(HttpMethod.Get, $"{pool.Client.Origin}/t/one/api/v1/servers");
        viaPath.Headers.Authorization = new AuthenticationHeaderValue("Bearer", PoolHarness.Secret);
        using var pathAnswer = await pool.Client.Http.SendAsync(viaPath);
        // An unknown path, answered as Scalelite answers one.
        Assert.Equal(HttpStatusCode.OK, pathAnswer.StatusCode);
        XmlAssert.Failed(System.Xml.Linq.XElement.Parse(await pathAnswer.Content.ReadAsStringAsync()), "unsupportedRequest");
    }

    [Fact]
    public async Task Resolve_NoDefaultTenant_BareHostIsChecksumError()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1, ("Tenancy:DefaultTenant", "false"));
        await pool.AddTenantAsync("one", "one-secret");
        using var one = pool.HostClient("one", "one-secret");

        XmlAssert.Failed(await pool.Client.CallAsync("getMeetings"), "checksumError");
        XmlAssert.Success(await one.CallAsync("getMeetings"));

        // The index needs no tenant and no checksum, as in Scalelite.
        var index = await pool.Client.GetXmlAsync(pool.ApiBase);
        XmlAssert.Success(index);
    }

    private static async Task<List<string>> MeetingIdsAsync(BbbTestClient client)
    {
        var answer = await client.CallAsync("getMeetings");
        XmlAssert.Success(answer);
        return [.. (answer.Element("meetings")?.Elements("meeting") ?? []).Select(m => m.Element("meetingID")!.Value).Order(StringComparer.Ordinal)];
    }
}
