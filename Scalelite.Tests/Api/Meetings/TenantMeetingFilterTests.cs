using System.Text;
using Scalelite.Api.Meetings;

namespace Scalelite.Tests.Api.Meetings;

/// <summary>getMeetings for one tenant: its meetings copied as they came, nobody else's, whatever a meeting's content.</summary>
public class TenantMeetingFilterTests
{
    private static string Meeting(string id, string? tenant, string extraMetadata = "", string name = "n") =>
        $"<meeting><meetingName>{name}</meetingName><meetingID>{id}</meetingID><metadata>{extraMetadata}"
        + (tenant is null ? string.Empty : $"<tenant-id>{tenant}</tenant-id>")
        + "</metadata><breakoutRooms><breakout>b</breakout></breakoutRooms></meeting>";

    private static byte[] Answer(params string[] meetings) =>
        Encoding.UTF8.GetBytes($"<response><returncode>SUCCESS</returncode><meetings>\n{string.Join("\n", meetings)}\n</meetings></response>");

    private static List<string> Collect(byte[] body, string tenant)
    {
        var parts = new List<ArraySegment<byte>>();
        Assert.True(TenantMeetingFilter.Collect(body, tenant, parts));
        return [.. parts.Select(p => Encoding.UTF8.GetString(p))];
    }

    [Fact]
    public void Collect_MixedTenants_CopiesTheTenantsMeetingsByteForByte()
    {
        var a1 = Meeting("a1", "A");
        var b1 = Meeting("b1", "B");
        var a2 = Meeting("a2", "A", "<course>x</course>");
        var none = Meeting("d1", null);

        Assert.Equal([a1, a2], Collect(Answer(a1, b1, a2, none), "A"));
        Assert.Equal([b1], Collect(Answer(a1, b1, a2, none), "B"));
        Assert.Equal([none], Collect(Answer(a1, b1, a2, none), string.Empty));
        Assert.Empty(Collect(Answer(a1, b1), "C"));
    }

    [Fact]
    public void Collect_ContentThatLooksLikeMarkup_DoesNotMoveTheBoundaries()
    {
        // A name in CDATA holding a fake meeting of another tenant, and a metadata key named "meeting".
        var tricky = Meeting("b1", "B", "<meeting>nested</meeting>", "<![CDATA[</meeting><meeting><metadata><tenant-id>A</tenant-id></metadata></meeting>]]>");
        var a1 = Meeting("a1", "A", "<note><!-- </meeting> --></note>");
        var body = Answer(tricky, a1);

        Assert.Equal([a1], Collect(body, "A"));
        Assert.Equal([tricky], Collect(body, "B"));
    }

    [Fact]
    public void Collect_NoMeetingsOrFailedOrBroken_IsEmptyOrUnusable()
    {
        var parts = new List<ArraySegment<byte>>();
        Assert.True(TenantMeetingFilter.Collect(Encoding.UTF8.GetBytes("<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey></response>"), "A", parts));
        Assert.Empty(parts);
        Assert.False(TenantMeetingFilter.Collect(Encoding.UTF8.GetBytes("<response><returncode>FAILED</returncode></response>"), "A", parts));
        Assert.False(TenantMeetingFilter.Collect(Encoding.UTF8.GetBytes("<response><returncode>SUCCESS</returncode><meetings><meeting>"), "A", parts));
        Assert.Empty(parts);
    }
}
