using System.Xml.Linq;
using Scalelite.Core.Recordings;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Recordings;

/// <summary>The recording calls where an LMS written against Scalelite expects Scalelite's (or BBB 2.6's) answer.</summary>
public sealed class ScaleliteRecordingBehaviourTests(RecordingApiFixture fixture) : IClassFixture<RecordingApiFixture>
{
    private readonly BbbTestClient _client = fixture.Client;

    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 13)];

    private Task<XElement> Call(string call, params (string, string)[] parameters) => _client.CallAsync(call, parameters);

    private static List<string> RecordIds(XElement response) => [.. response.Element("recordings")!.Elements("recording").Select(r => r.Element("recordID")!.Value)];

    [Fact]
    public async Task GetRecordings_WithLimit_AnswersTotalElementsAsBbb26()
    {
        var meeting = Unique("total");
        await fixture.Data.AddAsync([.. Enumerable.Range(0, 7).Select(i => RecordingData.New($"{meeting}-{i}", meeting, RecordingData.Epoch.AddMinutes(i)))]);

        var paged = await Call("getRecordings", ("meetingID", meeting), ("offset", "2"), ("limit", "3"));
        Assert.Equal(3, RecordIds(paged).Count);
        Assert.Equal("7", paged.Element("totalElements")?.Value);
        Assert.Equal("7", (await Call("getRecordings", ("meetingID", meeting), ("limit", "1"))).Element("totalElements")?.Value);

        // Without paging, the answer is Scalelite's and BBB's unpaged one.
        Assert.Null((await Call("getRecordings", ("meetingID", meeting))).Element("totalElements"));
    }

    [Fact]
    public async Task GetRecordings_SeveralMetaFilters_OrsThemAsScalelite()
    {
        var meeting = Unique("meta-or");
        var physics = RecordingData.New(meeting + "-p", meeting, RecordingData.Epoch.AddMinutes(1));
        var chemistry = RecordingData.New(meeting + "-c", meeting, RecordingData.Epoch.AddMinutes(2));
        chemistry.Metadata.Find(m => m.Key == "course")!.Value = "chemistry";
        chemistry.Metadata.Find(m => m.Key == "bbb-origin")!.Value = "Greenlight";
        var other = RecordingData.New(meeting + "-o", meeting, RecordingData.Epoch.AddMinutes(3));
        other.Metadata.Find(m => m.Key == "course")!.Value = "biology";
        other.Metadata.Find(m => m.Key == "bbb-origin")!.Value = "Canvas";
        await fixture.Data.AddAsync(physics, chemistry, other);

        Assert.Equal([chemistry.RecordId, physics.RecordId], RecordIds(await Call("getRecordings", ("meetingID", meeting), ("meta_course", "physics"), ("meta_bbb-origin", "Greenlight"))));
    }

    [Fact]
    public async Task UpdateRecordings_MetaKeys_LowerCasedAsScalelite()
    {
        var meeting = Unique("lower");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        var answer = await Call("updateRecordings", ("recordID", recording.RecordId), ("meta_Course-Name", "Maths"));
        Assert.Equal("true", answer.Element("updated")?.Value);

        var metadata = (await Call("getRecordings", ("recordID", recording.RecordId))).Descendants("metadata").Single();
        Assert.Equal("Maths", metadata.Element("course-name")?.Value);
        Assert.Null(metadata.Element("Course-Name"));
    }

    [Fact]
    public async Task UpdateRecordings_OneIdUnknown_AnswersUpdatedFalseAndChangesNothingAsScalelite()
    {
        var meeting = Unique("partial");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        var answer = await Call("updateRecordings", ("recordID", $"{recording.RecordId},{Unique("missing")}"), ("meta_course", "changed"));
        XmlAssert.Success(answer);
        Assert.Equal("false", answer.Element("updated")?.Value);
        var metadata = (await Call("getRecordings", ("recordID", recording.RecordId))).Descendants("metadata").Single();
        Assert.Equal("physics", metadata.Element("course")?.Value);

        // Nothing to change (only the recordID) is not an update either.
        Assert.Equal("false", (await Call("updateRecordings", ("recordID", recording.RecordId))).Element("updated")?.Value);
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("1", "true")]
    [InlineData("False", "true")]
    [InlineData("false", "false")]
    [InlineData("f", "false")]
    [InlineData("0", "false")]
    [InlineData("off", "false")]
    public async Task UpdateRecordings_Protect_CastAsRailsBooleanAsScalelite(string value, string expected)
    {
        var meeting = Unique("protect");
        var recording = RecordingData.New(meeting + "-r", meeting);
        recording.Protected = expected != "true";
        await fixture.Data.AddAsync(recording);

        Assert.Equal("true", (await Call("updateRecordings", ("recordID", recording.RecordId), ("protect", value))).Element("updated")?.Value);
        Assert.Equal(expected == "true", (await fixture.Data.FindAsync(recording.RecordId))!.Protected);
    }

    [Theory]
    [InlineData("TRUE", "true", true)]
    [InlineData("yes", "false", false)]
    [InlineData("1", "false", false)]
    public async Task PublishRecordings_ValueOtherThanTrue_UnpublishesAsScalelite(string value, string answered, bool published)
    {
        var meeting = Unique("pub");
        var recording = RecordingData.New(meeting + "-r", meeting, state: published ? RecordingState.Unpublished : RecordingState.Published);
        await fixture.Data.AddAsync(recording);

        var answer = await Call("publishRecordings", ("recordID", recording.RecordId), ("publish", value));
        XmlAssert.Success(answer);
        Assert.Equal(answered, answer.Element("published")?.Value);
        var state = (await Call("getRecordings", ("recordID", recording.RecordId))).Descendants("recording").Single().Element("state")?.Value;
        Assert.Equal(published ? RecordingState.Published : RecordingState.Unpublished, state);
    }
}
