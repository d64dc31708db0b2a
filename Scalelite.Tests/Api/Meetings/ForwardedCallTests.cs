using System.Text;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Meetings;

/// <summary>Calls that go to the meeting's owner, and the operator's parameter rules on their way there.</summary>
public sealed class ForwardedCallTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task InsertDocumentAndSendChatMessage_ReachTheOwner()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("docs"));
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "docs"));

        using var insert = new HttpRequestMessage(HttpMethod.Post, pool.Client.Url("insertDocument", "meetingID=docs"))
        {
            Content = new StringContent("<modules><module name=\"presentation\"><document url=\"http://example.invalid/a.pdf\"/></module></modules>", Encoding.UTF8, "application/xml"),
        };
        using var inserted = await pool.Client.Http.SendAsync(insert);
        XmlAssert.Success(await BbbTestClient.ReadXmlAsync(inserted));
        Assert.Equal(1, owner.GetCallCount("insertDocument"));

        XmlAssert.Success(await pool.Client.CallAsync("sendChatMessage", ("meetingID", "docs"), ("message", "hello")));
        Assert.Equal(1, owner.GetCallCount("sendChatMessage"));

        XmlAssert.Failed(await pool.Client.CallAsync("sendChatMessage", ("meetingID", "nowhere"), ("message", "hello")), "notFound");
    }

    [Fact]
    public async Task Create_DefaultOverrideExcludeParams_ShapeWhatTheServerSees()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?>
        {
            ["Scalelite:DefaultCreateParams"] = "meta_origin=lb,meta_keep=default",
            ["Scalelite:OverrideCreateParams"] = "meta_forced=yes",
            ["Scalelite:CreateExcludeParams"] = "meta_secret",
            ["Scalelite:MaxMeetingDuration"] = "60",
        });

        var answer = await pool.Client.CreateAsync("shaped", ("meta_keep", "mine"), ("meta_forced", "no"), ("meta_secret", "x"), ("duration", "600"));
        XmlAssert.Success(answer);
        Assert.Equal("60", answer.Element("duration")?.Value);

        var meeting = pool.Simulators.Servers[0].GetMeetings().Single(m => m.MeetingId == "shaped");
        var metadata = meeting.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("lb", metadata["origin"]);
        Assert.Equal("mine", metadata["keep"]);
        Assert.Equal("yes", metadata["forced"]);
        Assert.False(metadata.ContainsKey("secret"));
    }

    [Fact]
    public async Task Join_ExcludeParams_AreDropped()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?>
        {
            ["Scalelite:JoinExcludeParams"] = "avatarURL",
            ["Scalelite:OverrideJoinParams"] = "userdata-bbb_show_public_chat_on_login=false",
        });
        await pool.Client.CreateAsync("joining");
        using var join = await pool.Client.JoinAsync("joining", "Ann", ("avatarURL", "http://example.invalid/a.png"));
        var location = join.Headers.Location!.ToString();
        Assert.DoesNotContain("avatarURL", location, StringComparison.Ordinal);
        Assert.Contains("userdata-bbb_show_public_chat_on_login=false", location, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetMeetings_Disabled_AnswersNoMeetings()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?> { ["Scalelite:GetMeetingsApiDisabled"] = "true" });
        await pool.Client.CreateAsync("hidden");
        var answer = await pool.Client.CallAsync("getMeetings");
        Assert.Equal("noMeetings", answer.Element("messageKey")?.Value);
    }
}
