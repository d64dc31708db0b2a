using System.Net;
using System.Text.Json;
using Scalelite.BbbSimulator;
using Scalelite.Core.Pool;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api;

/// <summary>Answers outside the recording calls where a client or probe set up against Scalelite expects Scalelite's.</summary>
public sealed class ScaleliteBehaviourTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static string Root(PoolHarness pool) => pool.ApiBase[..^"/bigbluebutton/api".Length];

    [Fact]
    public async Task Index_BuildNumberSet_AnswersBuildAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, new Dictionary<string, string?> { ["Scalelite:BuildNumber"] = "v1.6.4" });

        var index = await pool.Client.GetXmlAsync(pool.ApiBase);
        XmlAssert.Success(index);
        Assert.Equal("2.0", index.Element("version")?.Value);
        Assert.Equal("v1.6.4", index.Element("build")?.Value);
    }

    [Fact]
    public async Task HealthCheck_StoresAnswer_AnswersPlainSuccessOnHealthCheckAndRootAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);

        foreach (var (method, path) in new[] { (HttpMethod.Get, "/health_check"), (HttpMethod.Get, "/"), (HttpMethod.Post, "/") })
        {
            using var response = await pool.Client.Http.SendAsync(new HttpRequestMessage(method, Root(pool) + path));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("success", await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("GET", "/no/such/path")]
    [InlineData("POST", "/bigbluebutton/api/join")]
    [InlineData("GET", "/bigbluebutton/api/analytics_callback")]
    [InlineData("DELETE", "/anything")]
    public async Task UnknownPath_AnyMethod_AnswersUnsupportedRequestXmlAsScalelite(string method, string path)
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);

        using var response = await pool.Client.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), Root(pool) + path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(response), "unsupportedRequest");
    }

    [Fact]
    public async Task Join_ErrorRedirectUrlWithOurError_RedirectsWithErrorsAsBbb()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);

        using var redirected = await pool.Client.JoinAsync("never-created", "Alice", ("errorRedirectUrl", "https://lms.example.org/error?course=7"));
        Assert.Equal(HttpStatusCode.Found, redirected.StatusCode);
        var location = redirected.Headers.Location!;
        Assert.Equal("lms.example.org", location.Host);
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("7", query["course"]);
        using var errors = JsonDocument.Parse(query["errors"]!);
        var error = Assert.Single(errors.RootElement.EnumerateArray().ToList());
        Assert.Equal("notFound", error.GetProperty("key").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));

        // Without the parameter, or with redirect=false, the error stays Scalelite's XML.
        using var plain = await pool.Client.JoinAsync("never-created");
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(plain), "notFound");
        using var noRedirect = await pool.Client.JoinAsync("never-created", "Alice", ("errorRedirectUrl", "https://lms.example.org/error"), ("redirect", "false"));
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(noRedirect), "notFound");
    }

    [Fact]
    public async Task GetMeetingInfo_ServerDoesNotAnswer_AnswersScalelitesBackendFailureText()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("unreachable"));
        pool.Simulators.Servers[0].SetFault(FaultMode.Down);

        var answer = await pool.Client.CallAsync("getMeetingInfo", ("meetingID", "unreachable"));
        XmlAssert.Failed(answer, "internalError");
        Assert.Equal("Unable to access meeting on server.", answer.Element("message")?.Value);
    }

    [Fact]
    public async Task Create_WhenNoServerAnswers_AnswersUnableToCreateMeetingOnServer()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        pool.Simulators.Servers[0].SetFault(FaultMode.Down);

        var answer = await pool.Client.CreateAsync("nobody-answers");

        XmlAssert.Failed(answer, "internalError");
        Assert.Equal("Unable to create meeting on server.", answer.Element("message")?.Value);
    }

    [Fact]
    public async Task Create_NoServerToPlaceOn_AnswersCouldNotFindAnyAvailableServersAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        await pool.ApiService<ServerAdministration>().UpdateAsync(pool.ServerIds[0], new ServerAdministration.Update("disable", null, null, null, false), CancellationToken.None);
        await pool.ApiService<IServerDirectory>().RefreshAsync();

        var answer = await pool.Client.CreateAsync("nowhere-to-go");

        XmlAssert.Failed(answer, "internalError");
        Assert.Equal("Could not find any available servers.", answer.Element("message")?.Value);
    }

    [Fact]
    public async Task InsertDocument_WhenItsServerDoesNotAnswer_AnswersUnableToInsertDocumentOnServer()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("slides-class"));
        pool.Simulators.Servers[0].SetFault(FaultMode.Down);

        using var body = new StringContent("<modules><module name=\"presentation\"><document url=\"https://lms.example.org/a.pdf\"/></module></modules>",
            System.Text.Encoding.UTF8, "application/xml");
        using var response = await pool.Client.Http.PostAsync(pool.Client.Url("insertDocument", "meetingID=slides-class"), body);
        var answer = await BbbTestClient.ReadXmlAsync(response);

        XmlAssert.Failed(answer, "internalError");
        Assert.Equal("Unable to insert document on server.", answer.Element("message")?.Value);
    }

    [Fact]
    public async Task Create_ServerTag_ForwardsTheChosenServersTagWithoutBangAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var admin = pool.ApiService<ServerAdministration>();
        await admin.UpdateAsync(pool.ServerIds[0], new ServerAdministration.Update(null, null, null, "gpu", true), CancellationToken.None);
        await pool.ApiService<IServerDirectory>().RefreshAsync();
        var tagged = pool.Simulator(pool.ServerIds[0]);
        var untagged = pool.Simulator(pool.ServerIds[1]);

        XmlAssert.Success(await pool.Client.CreateAsync("wants-gpu", ("meta_server-tag", "gpu!")));
        var onTagged = Assert.Single(tagged.GetMeetings());
        Assert.Equal("gpu", onTagged.Metadata.Single(m => m.Key == "server-tag").Value);

        // "none!" requires an untagged server, which is then told no tag at all.
        XmlAssert.Success(await pool.Client.CreateAsync("wants-untagged", ("meta_server-tag", "none!")));
        var onUntagged = Assert.Single(untagged.GetMeetings());
        Assert.Equal("wants-untagged", onUntagged.MeetingId);
        Assert.DoesNotContain(onUntagged.Metadata, m => m.Key == "server-tag");

        // With the untagged server gone, "none!" has nowhere to go.
        await admin.UpdateAsync(pool.ServerIds[1], new ServerAdministration.Update("disable", null, null, null, false), CancellationToken.None);
        await pool.ApiService<IServerDirectory>().RefreshAsync();
        XmlAssert.Failed(await pool.Client.CreateAsync("wants-untagged-2", ("meta_server-tag", "none!")), "serverTagUnavailable");
    }

    [Fact]
    public async Task RecordingCalls_RecordingDisabled_AnswerScalelitesStubsWithoutChecksum()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, new Dictionary<string, string?> { ["Recording:Disabled"] = "true" });

        var list = await pool.Client.GetXmlAsync(pool.ApiBase + "/getRecordings?meetingID=x");
        XmlAssert.Success(list);
        Assert.Equal("noRecordings", list.Element("messageKey")?.Value);
        Assert.Empty(list.Element("recordings")!.Elements());
        foreach (var call in new[] { "publishRecordings", "updateRecordings", "deleteRecordings" })
        {
            XmlAssert.Failed(await pool.Client.GetXmlAsync($"{pool.ApiBase}/{call}?recordID=x&publish=true"), "notFound");
        }
    }

    [Fact]
    public async Task AddServer_ServerIdIsHostname_IdIsTheLowerCasedHostAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, new Dictionary<string, string?> { ["Scalelite:ServerIdIsHostname"] = "true" });
        var admin = pool.ApiService<ServerAdministration>();

        var added = await admin.AddAsync("https://BBB9.Example.org/bigbluebutton/api", "secret-9", null, null, CancellationToken.None);
        Assert.True(added.Succeeded, added.Error);
        Assert.Equal("bbb9.example.org", added.Server!.Id);

        var twin = await admin.AddAsync("https://bbb9.example.org/second/bigbluebutton/api", "secret-9", null, null, CancellationToken.None);
        Assert.False(twin.Succeeded);
        Assert.Equal("Server already exists with id 'bbb9.example.org'", twin.Error);
    }

    [Fact]
    public async Task AdminApi_PostBodyNotJson_RefusedBeforeTheChecksumAndBodylessPostNotCheckedAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        using var admin = new BbbTestClient(Root(pool) + "/scalelite/api", PoolHarness.Secret);

        // A body that is not JSON is refused first, even without a valid checksum.
        using var form = await admin.Http.PostAsync(Root(pool) + "/scalelite/api/addServer?checksum=nope", new StringContent("url=x", System.Text.Encoding.UTF8, "text/plain"));
        Assert.Contains("unsupportedContentType", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // JSON aliases Rails accepts pass the check (then the missing server is the answer).
        using var alias = await admin.Http.PostAsync(admin.Url("addServer"), new StringContent("{}", System.Text.Encoding.UTF8, "text/x-json"));
        Assert.DoesNotContain("unsupportedContentType", await alias.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A POST without a body is not checked for its Content-Type.
        using var empty = await admin.Http.PostAsync(admin.Url("panicServer", "id=nope"), new ByteArrayContent([]) { Headers = { { "Content-Type", "text/plain" } } });
        Assert.DoesNotContain("unsupportedContentType", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
