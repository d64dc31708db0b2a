using System.Diagnostics;
using System.Net;
using System.Xml;
using System.Xml.Linq;
using Scalelite.BbbSimulator;

namespace Scalelite.Tests.BbbSimulator;

public sealed class FaultModeTests : SimulatorTestBase
{
    [Fact]
    public async Task Down_BbbApiCall_FailsAtConnectionLevelWhileControlRoutesWork()
    {
        using var set = await ControlAsync("/fault?mode=down");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Contains("\"mode\":\"down\"", await set.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await Assert.ThrowsAsync<HttpRequestException>(() => Http.GetAsync(BbbSigner.Url(Server, "getMeetings")));
        await Assert.ThrowsAsync<HttpRequestException>(() => Http.GetAsync(new Uri(Server.ApiUrl)));

        using var stats = await Http.GetAsync(new Uri(Server.ControlUrl + "/stats"));
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        using var back = await ControlAsync("/fault?mode=ok");
        AssertSuccess(await CallAsync("getMeetings"));
    }

    [Fact]
    public async Task Hang_ClientWithShortTimeout_TimesOut()
    {
        Server.SetFault(FaultMode.Hang);
        using var impatient = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync(BbbSigner.Url(Server, "getMeetings")));
    }

    [Fact]
    public async Task Hang_ModeBackToOk_ReleasesTheParkedRequestWithAnAnswer()
    {
        using var set = await ControlAsync("/fault?mode=hang");
        var pending = Http.GetAsync(BbbSigner.Url(Server, "getMeetings"));
        await WaitUntilAsync(() => Server.GetCallCount("getMeetings") == 1, TimeSpan.FromSeconds(10));
        Assert.False(pending.IsCompleted);

        using var ok = await ControlAsync("/fault?mode=ok");

        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        AssertSuccess(XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!);
    }

    [Fact]
    public async Task Hang_HostStopsWithAParkedRequest_StopsPromptly()
    {
        await using var host = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions());
        var server = host.Servers[0];
        server.SetFault(FaultMode.Hang);
        var pending = Http.GetAsync(BbbSigner.Url(server, "getMeetings"));
        await WaitUntilAsync(() => server.GetCallCount("getMeetings") == 1, TimeSpan.FromSeconds(10));

        var watch = Stopwatch.StartNew();
        await host.StopAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"Stop took {watch.Elapsed}.");
        await Assert.ThrowsAsync<HttpRequestException>(() => pending);
    }

    [Fact]
    public async Task Slow_DelayMs_AnswersNormallyAfterTheDelay()
    {
        using var set = await ControlAsync("/fault?mode=slow&delayMs=400");
        Assert.Contains("\"delayMs\":400", await set.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var watch = Stopwatch.StartNew();
        var xml = await CallAsync("getMeetings");

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(380), $"Answered after {watch.Elapsed}.");
        AssertSuccess(xml);
    }

    [Fact]
    public async Task Error_BbbApiCall_Answers500WithPlainBody()
    {
        using var set = await ControlAsync("/fault?mode=error");

        using var response = await Http.GetAsync(BbbSigner.Url(Server, "getMeetings"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_BbbApiCall_Answers200WithBodyThatIsNotXml()
    {
        using var set = await ControlAsync("/fault?mode=garbage");

        using var response = await Http.GetAsync(BbbSigner.Url(Server, "getMeetings"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.NotEmpty(body);
        Assert.ThrowsAny<XmlException>(() => XDocument.Parse(body));
    }

    [Fact]
    public async Task Fault_UnknownMode_Answers400AndKeepsTheMode()
    {
        using var response = await ControlAsync("/fault?mode=explode");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(FaultMode.Ok, Server.FaultMode);
    }

    [Fact]
    public async Task Fault_LimitedToJoin_FailsOnlyJoinsWhileOtherCallsAnswer()
    {
        AssertSuccess(await CreateAsync("limited"));
        using var set = await ControlAsync("/fault?mode=error&call=join");
        Assert.Contains("\"calls\":[\"join\"]", await set.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var join = await Http.GetAsync(BbbSigner.Url(Server, "join", "meetingID=limited&fullName=Ann&role=VIEWER&redirect=false"));
        Assert.Equal(HttpStatusCode.InternalServerError, join.StatusCode);
        AssertSuccess(await CallAsync("getMeetingInfo", "meetingID=limited"));
        AssertSuccess(await CallAsync("getMeetings"));

        using var ok = await ControlAsync("/fault?mode=ok");
        Assert.DoesNotContain("calls", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(Server.FaultCalls);
        AssertSuccess(await CallAsync("join", "meetingID=limited&fullName=Ann&role=VIEWER&redirect=false"));
    }

    [Fact]
    public async Task SetFault_HangForSomeCalls_ParksOnlyThoseCalls()
    {
        AssertSuccess(await CreateAsync("parked"));
        Server.SetFault(FaultMode.Hang, calls: ["join", "end"]);
        using var impatient = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync(BbbSigner.Url(Server, "end", "meetingID=parked")));
        AssertSuccess(await CallAsync("isMeetingRunning", "meetingID=parked"));
        Assert.Equal(["end", "join"], Server.FaultCalls!.Order(StringComparer.Ordinal));
    }
}
