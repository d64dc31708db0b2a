using System.Net;
using System.Xml.Linq;

namespace Scalelite.Tests.BbbSimulator;

public sealed class MeetingApiTests : SimulatorTestBase
{
    private static readonly string[] MeetingElements =
    [
        "meetingName", "meetingID", "internalMeetingID", "createTime", "createDate", "voiceBridge", "dialNumber",
        "attendeePW", "moderatorPW", "running", "duration", "hasUserJoined", "recording", "hasBeenForciblyEnded",
        "startTime", "endTime", "participantCount", "listenerCount", "voiceParticipantCount", "videoCount", "maxUsers",
        "moderatorCount", "attendees", "metadata", "isBreakout",
    ];

    [Fact]
    public async Task Create_NewMeeting_AnswersLikeBbb()
    {
        var xml = await CallAsync("create", "meetingID=m1&name=Maths&voiceBridge=71234&duration=30&meta_bbb-origin=Moodle&meta_Course=101");

        AssertSuccess(xml);
        Assert.Equal(
            ["returncode", "meetingID", "internalMeetingID", "parentMeetingID", "attendeePW", "moderatorPW", "createTime", "voiceBridge",
             "dialNumber", "createDate", "hasUserJoined", "duration", "hasBeenForciblyEnded", "messageKey", "message"],
            xml.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("m1", xml.Element("meetingID")!.Value);
        var createTime = xml.Element("createTime")!.Value;
        Assert.Matches("^[0-9a-f]{40}-" + createTime + "$", xml.Element("internalMeetingID")!.Value);
        Assert.Equal("bbb-none", xml.Element("parentMeetingID")!.Value);
        Assert.Equal("71234", xml.Element("voiceBridge")!.Value);
        Assert.Equal("30", xml.Element("duration")!.Value);
        Assert.Equal("false", xml.Element("hasUserJoined")!.Value);
        Assert.NotEmpty(xml.Element("attendeePW")!.Value);
        Assert.NotEmpty(xml.Element("moderatorPW")!.Value);
        Assert.Empty(xml.Element("messageKey")!.Value);
        var metadata = Server.GetMeetings().Single().Metadata;
        Assert.Equal([new("bbb-origin", "Moodle"), new("course", "101")], metadata);
    }

    [Fact]
    public async Task Create_WithoutMeetingId_FailsWithMissingParam()
    {
        AssertFailed(await CallAsync("create", "name=x"), "missingParamMeetingID");
        AssertFailed(await CallAsync("create", "meetingID=&name=x"), "missingParamMeetingID");
    }

    [Fact]
    public async Task Create_Repeated_AnswersDuplicateWarningWithTheSameMeeting()
    {
        var first = await CreateAsync("dup", "&attendeePW=ap&moderatorPW=mp");

        var again = await CallAsync("create", "meetingID=dup&name=Other");
        var samePasswords = await CallAsync("create", "meetingID=dup&attendeePW=ap&moderatorPW=mp");

        foreach (var xml in new[] { again, samePasswords })
        {
            AssertSuccess(xml);
            Assert.Equal("duplicateWarning", xml.Element("messageKey")?.Value);
            Assert.Equal("This conference was already in existence and may currently be in progress.", xml.Element("message")?.Value);
            Assert.Equal(first.Element("internalMeetingID")!.Value, xml.Element("internalMeetingID")!.Value);
            Assert.Equal("mp", xml.Element("moderatorPW")!.Value);
        }

        Assert.Equal(1, Server.MeetingCount);
    }

    [Fact]
    public async Task Create_RepeatedWithOtherPassword_FailsWithIdNotUnique()
    {
        await CreateAsync("dup-pw", "&attendeePW=ap&moderatorPW=mp");

        var xml = await CallAsync("create", "meetingID=dup-pw&attendeePW=ap&moderatorPW=other");

        AssertFailed(xml, "idNotUnique");
        Assert.Equal("A meeting already exists with that meeting ID. Please use a different meeting ID.", xml.Element("message")?.Value);
    }

    [Fact]
    public async Task Create_ConcurrentHerdOfOneMeetingId_MakesExactlyOneMeeting()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => CallAsync("create", "meetingID=herd&name=Herd")));

        Assert.All(answers, AssertSuccess);
        Assert.Single(answers.Select(a => a.Element("internalMeetingID")!.Value).Distinct());
        Assert.Single(answers, a => a.Element("messageKey")!.Value.Length == 0);
        Assert.Equal(1, Server.MeetingCount);
    }

    [Fact]
    public async Task Join_Default_RedirectsToAClientPageThatAnswers()
    {
        await CreateAsync("j1", "&moderatorPW=mp");

        using var response = await Http.GetAsync(BbbSigner.Url(Server, "join", "meetingID=j1&fullName=Ann&password=mp"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Contains("sessionToken=", location.Query, StringComparison.Ordinal);
        using var page = await Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, Server.GetMeetings().Single().ModeratorCount);
    }

    [Fact]
    public async Task Join_RedirectFalse_AnswersJoinXml()
    {
        var created = await CreateAsync("j2");

        var xml = await CallAsync("join", "meetingID=j2&fullName=Bo&role=VIEWER&userID=u-7&redirect=false");

        AssertSuccess(xml);
        Assert.Equal("successfullyJoined", xml.Element("messageKey")?.Value);
        Assert.Equal(created.Element("internalMeetingID")!.Value, xml.Element("meeting_id")?.Value);
        Assert.Equal("u-7", xml.Element("user_id")?.Value);
        Assert.NotEmpty(xml.Element("auth_token")!.Value);
        var token = xml.Element("session_token")!.Value;
        Assert.EndsWith("sessionToken=" + token, xml.Element("url")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_RoleFromPassword_ModeratorViewerOrInvalid()
    {
        await CreateAsync("j3", "&attendeePW=ap&moderatorPW=mp");

        AssertSuccess(await CallAsync("join", "meetingID=j3&fullName=M&password=mp&redirect=false"));
        AssertSuccess(await CallAsync("join", "meetingID=j3&fullName=V&password=ap&redirect=false"));
        AssertFailed(await CallAsync("join", "meetingID=j3&fullName=X&password=nope&redirect=false"), "invalidPassword");
        AssertFailed(await CallAsync("join", "meetingID=j3&fullName=X&redirect=false"), "invalidPassword");

        var info = await CallAsync("getMeetingInfo", "meetingID=j3");
        Assert.Equal("2", info.Element("participantCount")?.Value);
        Assert.Equal("1", info.Element("moderatorCount")?.Value);
        Assert.Equal(["MODERATOR", "VIEWER"], info.Element("attendees")!.Elements("attendee").Select(a => a.Element("role")!.Value));
    }

    [Fact]
    public async Task Join_MissingParamsOrUnknownMeeting_Fails()
    {
        await CreateAsync("j4");

        AssertFailed(await CallAsync("join", "fullName=A&role=VIEWER"), "missingParamMeetingID");
        AssertFailed(await CallAsync("join", "meetingID=j4&role=VIEWER"), "missingParamFullName");
        var notFound = await CallAsync("join", "meetingID=nope&fullName=A&role=VIEWER");
        AssertFailed(notFound, "notFound");
        Assert.Equal("We could not find a meeting with that meeting ID - perhaps the meeting is not yet running?", notFound.Element("message")?.Value);
    }

    [Fact]
    public async Task IsMeetingRunning_Lifecycle_FalseThenTrueAfterJoinThenFalseAfterEnd()
    {
        Assert.Equal("false", (await CallAsync("isMeetingRunning", "meetingID=r1")).Element("running")?.Value);
        await CreateAsync("r1");
        Assert.Equal("false", (await CallAsync("isMeetingRunning", "meetingID=r1")).Element("running")?.Value);

        AssertSuccess(await CallAsync("join", "meetingID=r1&fullName=A&role=MODERATOR&redirect=false"));
        Assert.Equal("true", (await CallAsync("isMeetingRunning", "meetingID=r1")).Element("running")?.Value);
        Assert.Equal("true", (await CallAsync("getMeetingInfo", "meetingID=r1")).Element("hasUserJoined")?.Value);

        AssertSuccess(await CallAsync("end", "meetingID=r1"));
        Assert.Equal("false", (await CallAsync("isMeetingRunning", "meetingID=r1")).Element("running")?.Value);
    }

    [Fact]
    public async Task End_KnownAndUnknownMeeting_SentEndMeetingRequestThenNotFound()
    {
        await CreateAsync("e1");

        var ended = await CallAsync("end", "meetingID=e1");
        AssertSuccess(ended);
        Assert.Equal("sentEndMeetingRequest", ended.Element("messageKey")?.Value);
        Assert.StartsWith("A request to end the meeting was sent.", ended.Element("message")?.Value, StringComparison.Ordinal);

        AssertFailed(await CallAsync("end", "meetingID=e1"), "notFound");
        AssertFailed(await CallAsync("getMeetingInfo", "meetingID=e1"), "notFound");
        AssertFailed(await CallAsync("end", string.Empty), "missingParamMeetingID");
    }

    [Fact]
    public async Task GetMeetingInfo_KnownMeeting_HasEveryBbbElement()
    {
        await CreateAsync("info", "&meta_bbb-context=Course%201&record=true&maxParticipants=25");
        AssertSuccess(await CallAsync("join", "meetingID=info&fullName=Ann&role=MODERATOR&redirect=false"));

        var xml = await CallAsync("getMeetingInfo", "meetingID=info");

        AssertSuccess(xml);
        var names = xml.Elements().Select(e => e.Name.LocalName).ToList();
        Assert.All(MeetingElements, name => Assert.Contains(name, names));
        Assert.Equal("true", xml.Element("recording")?.Value);
        Assert.Equal("25", xml.Element("maxUsers")?.Value);
        Assert.Equal("Course 1", xml.Element("metadata")?.Element("bbb-context")?.Value);
        var attendee = Assert.Single(xml.Element("attendees")!.Elements("attendee"));
        Assert.Equal(
            ["userID", "fullName", "role", "isPresenter", "isListeningOnly", "hasJoinedVoice", "hasVideo", "clientType", "customdata"],
            attendee.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("Ann", attendee.Element("fullName")?.Value);
    }

    [Fact]
    public async Task GetMeetings_NoMeetings_AnswersNoMeetingsWithEmptyList()
    {
        var xml = await CallAsync("getMeetings");

        AssertSuccess(xml);
        Assert.Equal("noMeetings", xml.Element("messageKey")?.Value);
        Assert.Equal("no meetings were found on this server", xml.Element("message")?.Value);
        Assert.Empty(xml.Element("meetings")!.Elements());
    }

    [Fact]
    public async Task GetMeetings_TwoMeetings_ListsBothInMeetingShape()
    {
        await CreateAsync("g1");
        await CreateAsync("g2", "&meta_x=1");

        var xml = await CallAsync("getMeetings");

        AssertSuccess(xml);
        var meetings = xml.Element("meetings")!.Elements("meeting").ToList();
        Assert.Equal(["g1", "g2"], meetings.Select(m => m.Element("meetingID")!.Value).Order(StringComparer.Ordinal));
        Assert.All(meetings, m => Assert.Equal(MeetingElements.Order(StringComparer.Ordinal), m.Elements().Select(e => e.Name.LocalName).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task GetMeetings_OddNamesAndMetadata_StayWellFormedXml()
    {
        const string name = "Q&A <live> \"quoted\" 'single' \u00e9\u4e2d\U0001F600";
        AssertSuccess(await CallAsync("create", "meetingID=" + Uri.EscapeDataString("odd<&>\"id\"") + "&name=" + Uri.EscapeDataString(name) + "&meta_note=" + Uri.EscapeDataString("a<b>&c\u0001") + "&meta_ns%3Aodd%20key=v"));

        var xml = await CallAsync("getMeetings");

        var meeting = xml.Element("meetings")!.Element("meeting")!;
        Assert.Equal(name, meeting.Element("meetingName")?.Value);
        Assert.Equal("odd<&>\"id\"", meeting.Element("meetingID")?.Value);
        Assert.Equal("a<b>&c\uFFFD", meeting.Element("metadata")?.Element("note")?.Value);
        Assert.Equal(2, meeting.Element("metadata")!.Elements().Count());
    }

    [Fact]
    public async Task InsertDocument_PostXmlBody_SucceedsForKnownMeetingOnly()
    {
        await CreateAsync("doc");
        const string body = "<modules><module name=\"presentation\"><document url=\"https://example.org/a.pdf\"/></module></modules>";

        async Task<XElement> PostAsync(string meetingId)
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/xml");
            using var response = await Http.PostAsync(BbbSigner.Url(Server, "insertDocument", "meetingID=" + meetingId), content);
            return XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
        }

        var ok = await PostAsync("doc");
        AssertSuccess(ok);
        Assert.Equal("Presentation is being uploaded", ok.Element("message")?.Value);
        AssertFailed(await PostAsync("none"), "notFound");
        AssertFailed(await CallAsync("insertDocument", "meetingID=doc"), "unsupportedRequest");
    }

    [Fact]
    public async Task Create_PostWithSlidesXmlBody_Succeeds()
    {
        using var content = new StringContent("<modules><module name=\"presentation\"/></modules>", System.Text.Encoding.UTF8, "application/xml");
        using var response = await Http.PostAsync(BbbSigner.Url(Server, "create", "meetingID=slides&name=s"), content);

        AssertSuccess(XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!);
        Assert.Equal(1, Server.MeetingCount);
    }

    [Fact]
    public async Task SendChatMessage_KnownMeeting_SucceedsOtherwiseFails()
    {
        await CreateAsync("chat");

        AssertSuccess(await CallAsync("sendChatMessage", "meetingID=chat&message=hello"));
        AssertFailed(await CallAsync("sendChatMessage", "meetingID=none&message=hello"), "notFound");
    }

    [Fact]
    public async Task UnknownCall_AnyChecksum_AnswersUnsupportedRequest()
    {
        var xml = await CallAsync("getRecordingsNope", "meetingID=x");

        AssertFailed(xml, "unsupportedRequest");
        Assert.Equal("This request is not supported.", xml.Element("message")?.Value);
    }

    [Fact]
    public async Task Create_Breakout_IsListedUnderItsParent()
    {
        var parent = await CreateAsync("parent");
        var parentInternal = parent.Element("internalMeetingID")!.Value;

        var child = await CallAsync("create", $"meetingID=child&name=Room&isBreakout=true&parentMeetingID={parentInternal}&sequence=1");

        Assert.Equal(parentInternal, child.Element("parentMeetingID")?.Value);
        var info = await CallAsync("getMeetingInfo", "meetingID=parent");
        Assert.Equal(child.Element("internalMeetingID")!.Value, info.Element("breakoutRooms")?.Element("breakout")?.Value);
        var listed = (await CallAsync("getMeetings")).Element("meetings")!.Elements("meeting").Single(m => m.Element("meetingID")!.Value == "child");
        Assert.Equal("true", listed.Element("isBreakout")?.Value);
        Assert.Equal("1", listed.Element("sequence")?.Value);
    }
}
