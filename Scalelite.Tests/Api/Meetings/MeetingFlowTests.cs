using System.Net;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Meetings;

/// <summary>The meeting path as an LMS drives it, against real PostgreSQL, Redis and simulated BBB servers.</summary>
public sealed class MeetingFlowTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>, IAsyncLifetime
{
    private PoolHarness _pool = null!;

    public async Task InitializeAsync() => _pool = await PoolHarness.StartAsync(infrastructure);

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Theory]
    [InlineData(ChecksumAlgorithm.Sha1)]
    [InlineData(ChecksumAlgorithm.Sha256)]
    [InlineData(ChecksumAlgorithm.Sha384)]
    [InlineData(ChecksumAlgorithm.Sha512)]
    public async Task FullLifecycle_EachAlgorithm_BehavesLikeOneBbbServer(ChecksumAlgorithm algorithm)
    {
        var client = _pool.Client;
        var meetingId = $"lifecycle-{algorithm}";

        var created = await client.GetXmlAsync(client.Url("create", BbbTestClient.Query(("meetingID", meetingId), ("name", "Room 1"), ("moderatorPW", "mp"), ("attendeePW", "ap")), algorithm));
        XmlAssert.Success(created);
        Assert.Equal(meetingId, created.Element("meetingID")?.Value);
        var internalId = created.Element("internalMeetingID")?.Value;
        Assert.False(string.IsNullOrEmpty(internalId));

        using var join = await client.Http.GetAsync(client.Url("join", BbbTestClient.Query(("fullName", "Alice"), ("meetingID", meetingId), ("password", "mp")), algorithm));
        Assert.Equal(HttpStatusCode.Redirect, join.StatusCode);
        var owner = _pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == meetingId));
        var location = join.Headers.Location!.ToString();
        Assert.StartsWith(owner.ApiUrl + "/join?", location);
        // The redirect must pass the owner's own checksum check: following it joins the user there.
        using var follow = await client.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.Redirect, follow.StatusCode);
        Assert.Equal(1, owner.GetCallCount("join"));

        var running = await client.GetXmlAsync(client.Url("isMeetingRunning", $"meetingID={meetingId}", algorithm));
        Assert.Equal("true", running.Element("running")?.Value);

        var info = await client.GetXmlAsync(client.Url("getMeetingInfo", $"meetingID={meetingId}", algorithm));
        XmlAssert.Success(info);
        Assert.Equal(internalId, info.Element("internalMeetingID")?.Value);

        var meetings = await client.GetXmlAsync(client.Url("getMeetings", "", algorithm));
        XmlAssert.Success(meetings);
        Assert.Contains(meetings.Element("meetings")!.Elements("meeting"), m => m.Element("meetingID")?.Value == meetingId);

        var ended = await client.GetXmlAsync(client.Url("end", BbbTestClient.Query(("meetingID", meetingId), ("password", "mp")), algorithm));
        XmlAssert.Success(ended);
        Assert.DoesNotContain(owner.GetMeetings(), m => m.MeetingId == meetingId);

        var after = await client.GetXmlAsync(client.Url("isMeetingRunning", $"meetingID={meetingId}", algorithm));
        Assert.Equal("false", after.Element("running")?.Value);
        XmlAssert.Failed(await client.GetXmlAsync(client.Url("getMeetingInfo", $"meetingID={meetingId}", algorithm)), "notFound");
    }

    [Fact]
    public async Task Create_Repeat_AnswersDuplicateWarningWithTheSameMeeting()
    {
        var first = await _pool.Client.CreateAsync("repeat-me");
        var second = await _pool.Client.CreateAsync("repeat-me");
        XmlAssert.Success(second);
        Assert.Equal("duplicateWarning", second.Element("messageKey")?.Value);
        Assert.Equal(first.Element("internalMeetingID")?.Value, second.Element("internalMeetingID")?.Value);
    }

    [Fact]
    public async Task Create_RepeatAnsweredFromTheFirstAnswer_HasTheFirstAnswersBytesWithBbbsDuplicateWording()
    {
        var url = _pool.Client.Url("create", BbbTestClient.Query(("meetingID", "same-bytes"), ("name", "Same bytes")));
        var first = await _pool.Client.Http.GetByteArrayAsync(url);
        var second = await _pool.Client.Http.GetByteArrayAsync(url);

        // Answered without a second create on the server: the answer is made from the first one.
        Assert.Equal(1, _pool.Simulators.Servers.Sum(s => s.GetCallCount("create")));
        var expected = System.Text.Encoding.UTF8.GetString(first)
            .Replace("<messageKey></messageKey>", "<messageKey>duplicateWarning</messageKey>", StringComparison.Ordinal)
            .Replace("<message></message>", "<message>This conference was already in existence and may currently be in progress.</message>", StringComparison.Ordinal);
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(second));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(expected), second);
    }

    [Fact]
    public async Task Create_Concurrent200_OneCreateOnOneServer_SameAnswerForAll()
    {
        var url = _pool.Client.Url("create", BbbTestClient.Query(("meetingID", "herd-of-one"), ("name", "Herd")));
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => _pool.Client.GetXmlAsync(url)));

        Assert.All(answers, XmlAssert.Success);
        Assert.Single(answers.Select(a => a.Element("internalMeetingID")?.Value).Distinct());
        Assert.Equal(1, _pool.Simulators.Servers.Sum(s => s.GetCallCount("create")));
        Assert.Single(_pool.Simulators.Servers, s => s.GetMeetings().Any(m => m.MeetingId == "herd-of-one"));
    }

    [Fact]
    public async Task Create_ManyMeetings_SpreadOverServers()
    {
        await Task.WhenAll(Enumerable.Range(0, 30).Select(i => _pool.Client.CreateAsync($"spread-{i}")));
        var counts = _pool.Simulators.Servers.Select(s => s.GetMeetings().Count(m => m.MeetingId.StartsWith("spread-", StringComparison.Ordinal))).ToList();
        Assert.Equal(30, counts.Sum());
        Assert.All(counts, c => Assert.InRange(c, 9, 11));
    }

    [Fact]
    public async Task Create_VoiceBridges_AreUniqueAcrossThePool()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => _pool.Client.CreateAsync($"vb-{i}")));
        var bridges = answers.Select(a => a.Element("voiceBridge")?.Value).ToList();
        Assert.All(bridges, b => Assert.Equal(9, b!.Length));
        Assert.Equal(bridges.Count, bridges.Distinct().Count());
    }

    [Fact]
    public async Task Join_RedirectFalse_PassesTheBackendXmlThrough()
    {
        await _pool.Client.CreateAsync("no-redirect");
        using var response = await _pool.Client.JoinAsync("no-redirect", "Bob", ("redirect", "false"));
        var xml = await BbbTestClient.ReadXmlAsync(response);
        XmlAssert.Success(xml);
        Assert.False(string.IsNullOrEmpty(xml.Element("url")?.Value));
    }

    [Fact]
    public async Task Join_RaisesItsServerLoad_SoTheNextCreatesGoElsewhere()
    {
        await _pool.Client.CreateAsync("busy");
        var busy = _pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "busy"));
        for (var i = 0; i < 60; i++)
        {
            using var joined = await _pool.Client.JoinAsync("busy", $"User {i}");
            Assert.Equal(HttpStatusCode.Found, joined.StatusCode);
        }

        // The 60 joins count at once (no poll runs here): the busy server stays above the others for four more creates.
        for (var i = 0; i < 4; i++)
        {
            await _pool.Client.CreateAsync($"after-joins-{i}");
        }

        Assert.DoesNotContain(busy.GetMeetings(), m => m.MeetingId.StartsWith("after-joins-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Join_UnknownMeeting_IsNotFound()
    {
        using var response = await _pool.Client.JoinAsync("never-created");
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(response), "notFound");
    }

    [Fact]
    public async Task IsMeetingRunning_UnknownMeeting_FalseWithoutBackendCalls()
    {
        var before = _pool.Simulators.Servers.Sum(s => s.GetCallCount("isMeetingRunning") + s.GetCallCount("getMeetingInfo"));
        var answer = await _pool.Client.CallAsync("isMeetingRunning", ("meetingID", "nobody-here"));
        XmlAssert.Success(answer);
        Assert.Equal("false", answer.Element("running")?.Value);
        Assert.Equal(before, _pool.Simulators.Servers.Sum(s => s.GetCallCount("isMeetingRunning") + s.GetCallCount("getMeetingInfo")));
    }

    [Fact]
    public async Task Create_RequiredTagMissing_IsServerTagUnavailable()
    {
        var answer = await _pool.Client.CreateAsync("tagged", ("meta_server-tag", "gpu!"));
        XmlAssert.Failed(answer, "serverTagUnavailable");
    }

    [Fact]
    public async Task Create_OptionalTagMissing_FallsBackToUntaggedServers()
    {
        XmlAssert.Success(await _pool.Client.CreateAsync("tag-fallback", ("meta_server-tag", "gpu")));
    }

    [Fact]
    public async Task GetMeetings_Empty_IsNoMeetings()
    {
        foreach (var sim in _pool.Simulators.Servers)
        {
            sim.Reset();
        }

        var answer = await _pool.Client.CallAsync("getMeetings");
        XmlAssert.Success(answer);
        Assert.Equal("noMeetings", answer.Element("messageKey")?.Value);
    }

    [Fact]
    public async Task Poll_MeetingEndedOnBackend_IsForgotten()
    {
        await _pool.Client.CreateAsync("ends-by-itself");
        var owner = _pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "ends-by-itself"));
        owner.EndMeeting("ends-by-itself");

        await _pool.PollAsync();

        using var join = await _pool.Client.JoinAsync("ends-by-itself");
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(join), "notFound");
    }
}
