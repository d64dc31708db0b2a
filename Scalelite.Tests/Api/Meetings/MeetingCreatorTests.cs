using System.Text;
using Scalelite.Api.Meetings;

namespace Scalelite.Tests.Api.Meetings;

public class MeetingCreatorTests
{
    [Fact]
    public void AsDuplicate_IndentedAnswerWithADeclaration_KeepsItsFormAndChangesOnlyTheTexts()
    {
        var original = "<?xml version=\"1.0\" encoding=\"utf-8\"?><response>\n  <returncode>SUCCESS</returncode>\n  <meetingID>m</meetingID>\n"
            + "  <messageKey></messageKey>\n  <message></message>\n</response>";

        var repeat = MeetingCreator.AsDuplicate(Encoding.UTF8.GetBytes(original));

        var expected = original
            .Replace("<messageKey></messageKey>", "<messageKey>duplicateWarning</messageKey>", StringComparison.Ordinal)
            .Replace("<message></message>", "<message>This conference was already in existence and may currently be in progress.</message>", StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetBytes(expected), repeat);
    }

    [Fact]
    public void AsDuplicate_AnswerWithoutTheTwoElements_AddsThemWithoutADeclaration()
    {
        var repeat = Encoding.UTF8.GetString(MeetingCreator.AsDuplicate("<response><returncode>SUCCESS</returncode></response>"u8.ToArray()));

        Assert.Equal(
            "<response><returncode>SUCCESS</returncode><messageKey>duplicateWarning</messageKey>"
            + "<message>This conference was already in existence and may currently be in progress.</message></response>",
            repeat);
    }
}
