using System.Text;
using Scalelite.Core.Recordings;
using Scalelite.Tests.RecordingSync;

namespace Scalelite.Tests.Core.Recordings;

public sealed class RecordingMetadataParserTests
{
    private static ParsedRecording Parse(string xml) => RecordingMetadataParser.Parse(new MemoryStream(Encoding.UTF8.GetBytes(xml)));

    [Fact]
    public void Parse_ReferenceFixture_ReadsEveryField()
    {
        var fixture = Path.Combine(FixtureDirectory(), "recording_metadata.xml");

        var r = RecordingMetadataParser.Parse(fixture);

        Assert.Equal("record-2342", r.RecordId);
        Assert.Equal("published", r.State);
        Assert.True(r.Published);
        Assert.Equal(1647181479536, r.StartTime.ToUnixTimeMilliseconds());
        Assert.Equal(1647181557090, r.EndTime.ToUnixTimeMilliseconds());
        Assert.Equal(1, r.Participants);
        Assert.Equal(871354, r.RawSize);
        Assert.Equal("internal-2342", r.InternalMeetingId);
        Assert.Equal("meeting-2342", r.MeetingId);
        Assert.Equal("neuraum", r.Name);
        Assert.False(r.IsBreakout);
        Assert.Equal(7, r.Metadata.Count);
        Assert.Contains(new KeyValuePair<string, string>("bbb-origin-server-name", "greenlight1.foobar"), r.Metadata);
        Assert.Equal("presentation", r.Format);
        Assert.Equal("https://9000/playback/presentation/2.3/record-2342", r.Link);
        Assert.Equal(4882, r.ProcessingTime);
        Assert.Equal(32860, r.Duration);
        Assert.Equal(248378, r.Size);
    }

    [Fact]
    public void Parse_PreviewImages_BecomeThumbnailsInOrder()
    {
        var r = Parse(TestArchives.MetadataXml("r1", "presentation"));

        var thumb = Assert.Single(r.Thumbnails);
        Assert.Equal(new ParsedThumbnail("https://bbb1.example/presentation/r1/thumbnails/thumb-1.png", 176, 136, "Welcome"), thumb);
    }

    [Theory]
    [InlineData("<recording><id>r1</id>", "not well-formed")]
    [InlineData("<response/>", "expected <recording>")]
    [InlineData("<recording><meeting id='a' externalId='b'/><playback><format>presentation</format></playback></recording>", "no id")]
    [InlineData("<recording><id>r1</id><meeting id='a' externalId='b'/><playback><format>../x</format></playback></recording>", "invalid recording")]
    [InlineData("<recording><id>r1</id><start_time>soon</start_time><meeting id='a' externalId='b'/><playback><format>p</format></playback></recording>", "start_time")]
    [InlineData("<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><recording><id>&x;</id></recording>", "not well-formed")]
    public void Parse_Malformed_ThrowsWithReason(string xml, string reasonPart)
    {
        var e = Assert.Throws<RecordingFormatException>(() => Parse(xml));

        Assert.Contains(reasonPart, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnsafeNames.SegmentLabels), MemberType = typeof(UnsafeNames))]
    public void Parse_UnsafeRecordIdOrFormat_Throws(string label)
    {
        var name = UnsafeNames.All[label];

        Assert.Contains("invalid recording", Assert.Throws<RecordingFormatException>(() => Parse(TestArchives.MetadataXml(name, "presentation"))).Message, StringComparison.Ordinal);
        Assert.Contains("invalid recording", Assert.Throws<RecordingFormatException>(() => Parse(TestArchives.MetadataXml("r1", name))).Message, StringComparison.Ordinal);
    }

    internal static string FixtureDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Scalelite.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var candidates = new[] { Path.Combine(dir.FullName, "..", "shared", "bbb", "fixtures"), "/work/shared/bbb/fixtures" };
        return candidates.FirstOrDefault(Directory.Exists) ?? throw new DirectoryNotFoundException("shared/bbb/fixtures not found");
    }
}
