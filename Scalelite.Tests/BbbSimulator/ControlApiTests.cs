using System.Net;
using System.Text.Json;

namespace Scalelite.Tests.BbbSimulator;

public sealed class ControlApiTests : SimulatorTestBase
{
    [Fact]
    public async Task Attendees_KnownMeeting_ReflectedInGetMeetingsCountsAndRunning()
    {
        await CreateAsync("room/1");
        AssertSuccess(await CallAsync("join", "meetingID=room%2F1&fullName=Mod&role=MODERATOR&redirect=false"));

        using var response = await ControlAsync("/meetings/room%2F1/attendees?count=7&video=3");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var meeting = (await CallAsync("getMeetings")).Element("meetings")!.Element("meeting")!;
        Assert.Equal("true", meeting.Element("running")?.Value);
        Assert.Equal("8", meeting.Element("participantCount")?.Value);
        Assert.Equal("1", meeting.Element("moderatorCount")?.Value);
        Assert.Equal("3", meeting.Element("videoCount")?.Value);
        Assert.Equal(8, meeting.Element("attendees")!.Elements("attendee").Count());
        Assert.Equal("true", (await CallAsync("isMeetingRunning", "meetingID=room%2F1")).Element("running")?.Value);
    }

    [Fact]
    public async Task Attendees_UnknownMeeting_Answers404()
    {
        using var response = await ControlAsync("/meetings/none/attendees?count=1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task End_ControlRoute_MeetingDisappearsFromGetMeetings()
    {
        await CreateAsync("gone");
        await CreateAsync("stays");

        using var response = await ControlAsync("/meetings/gone/end");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ids = (await CallAsync("getMeetings")).Element("meetings")!.Elements("meeting").Select(m => m.Element("meetingID")!.Value);
        Assert.Equal(["stays"], ids);
    }

    [Fact]
    public async Task Stats_AfterCalls_CountsCallsChecksumFailuresAndMeetings()
    {
        await CreateAsync("s1", "&meta_origin=lms");
        await CallAsync("create", "meetingID=s1");
        await CallAsync("getMeetings");
        using (await Http.GetAsync(new Uri($"{Server.ApiUrl}/getMeetings?checksum=00")))
        {
        }

        using var json = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Server.ControlUrl + "/stats")));

        var root = json.RootElement;
        Assert.Equal("sim-1", root.GetProperty("id").GetString());
        Assert.Equal("ok", root.GetProperty("mode").GetString());
        Assert.Equal(2, root.GetProperty("calls").GetProperty("create").GetInt64());
        Assert.Equal(1, root.GetProperty("calls").GetProperty("getMeetings").GetInt64());
        Assert.Equal(1, root.GetProperty("checksumFailures").GetProperty("getMeetings").GetInt64());
        var meeting = Assert.Single(root.GetProperty("meetings").EnumerateArray());
        Assert.Equal("s1", meeting.GetProperty("meetingID").GetString());
        Assert.False(meeting.GetProperty("running").GetBoolean());
        Assert.Equal(0, meeting.GetProperty("participantCount").GetInt32());
        Assert.Equal("lms", meeting.GetProperty("metadata").GetProperty("origin").GetString());
    }

    [Fact]
    public async Task Reset_AfterActivity_ClearsMeetingsCountersAndFault()
    {
        await CreateAsync("r");
        Server.SetFault(Scalelite.BbbSimulator.FaultMode.Error);

        using var response = await ControlAsync("/reset");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Scalelite.BbbSimulator.FaultMode.Ok, Server.FaultMode);
        Assert.Equal(0, Server.MeetingCount);
        Assert.Empty(Server.GetCallCounts());
    }
}
