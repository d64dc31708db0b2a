using System.Text;
using Scalelite.Api.Meetings;

namespace Scalelite.Tests.Api.Meetings;

public class MeetingListTests
{
    private static string? Meetings(string xml) =>
        MeetingList.MeetingsOf(Encoding.UTF8.GetBytes(xml)) is { } segment ? Encoding.UTF8.GetString(segment) : null;

    [Fact]
    public void MeetingsOf_Success_IsTheRawContentOfMeetings() =>
        Assert.Equal("<meeting><meetingID>a&amp;b</meetingID><metadata><x><![CDATA[</meetings>]]></x></metadata></meeting>",
            Meetings("<?xml version=\"1.0\"?><response><returncode>SUCCESS</returncode><meetings><meeting><meetingID>a&amp;b</meetingID><metadata><x><![CDATA[</meetings>]]></x></metadata></meeting></meetings></response>"));

    [Theory]
    [InlineData("<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey></response>")]
    [InlineData("<response><returncode>SUCCESS</returncode></response>")]
    public void MeetingsOf_NoMeetings_IsEmpty(string xml) => Assert.Equal("", Meetings(xml));

    [Theory]
    [InlineData("<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey></response>")]
    [InlineData("<response><returncode>SUCCESS</returncode><meetings><meeting></meetings></response>")]
    [InlineData("not xml at all")]
    [InlineData("")]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    public void MeetingsOf_FailedOrBroken_IsLeftOut(string xml) => Assert.Null(Meetings(xml));

    [Fact]
    public void MeetingsOf_Success_ListsTheMeetingIDs_NotNestedOnes()
    {
        var ids = new List<string>();
        MeetingList.MeetingsOf(Encoding.UTF8.GetBytes(
            "<response><returncode>SUCCESS</returncode><meetings>" +
            "<meeting><meetingName>A</meetingName><meetingID>a&amp;1</meetingID><metadata><meetingID>not-me</meetingID></metadata></meeting>" +
            "<meeting><meetingID>b</meetingID><breakoutRooms><breakout>c</breakout></breakoutRooms></meeting>" +
            "</meetings></response>"), ids);

        Assert.Equal(["a&1", "b"], ids);
    }
}
