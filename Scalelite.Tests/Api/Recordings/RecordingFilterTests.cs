using System.Text;
using System.Xml;
using System.Xml.Linq;
using Scalelite.Api.Recordings;
using Scalelite.Core.Bbb;

namespace Scalelite.Tests.Api.Recordings;

public class RecordingFilterTests
{
    private static RecordingFilter Parse(string query, bool requireIdFilter = false)
    {
        Assert.True(BbbParameters.TryParse(query, out var parameters));
        var (filter, error) = RecordingFilter.Parse(parameters, requireIdFilter);
        Assert.Null(error);
        return filter!;
    }

    private static BbbError? Error(string query, bool requireIdFilter = false)
    {
        Assert.True(BbbParameters.TryParse(query, out var parameters));
        return RecordingFilter.Parse(parameters, requireIdFilter).Error;
    }

    [Fact]
    public void Parse_NoParameters_PublishedAndUnpublishedWithoutLimit()
    {
        var filter = Parse(string.Empty);
        Assert.Equal(["published", "unpublished"], filter.States!);
        Assert.Equal(0, filter.Offset);
        Assert.Null(filter.Limit);
        Assert.Empty(filter.MeetingIds);
        Assert.Empty(filter.RecordIdPrefixes);
        Assert.Empty(filter.Metadata);
    }

    [Fact]
    public void Parse_StateAny_NoStateFilter()
    {
        Assert.Null(Parse("state=published,any").States);
        Assert.Equal(["deleted", "processing"], Parse("state=deleted,,processing").States!);
    }

    [Fact]
    public void Parse_RecordIdAndMeetingId_RecordIdWins()
    {
        var filter = Parse("meetingID=m1&recordID=r1,r2,r1");
        Assert.Equal(["r1", "r2"], filter.RecordIdPrefixes);
        Assert.Empty(filter.MeetingIds);
        Assert.Equal(["a b", "c"], Parse("meetingID=a+b,c").MeetingIds);
    }

    [Fact]
    public void Parse_MetaParameters_OneFilterPerKeyWithItsValues()
    {
        var filter = Parse("meta_course=physics,maths&meta_empty=&meta_=x&other=y");
        Assert.Equal(2, filter.Metadata.Count);
        Assert.Equal("course", filter.Metadata[0].Key);
        Assert.Equal(["physics", "maths"], filter.Metadata[0].Values);
        Assert.Equal("empty", filter.Metadata[1].Key);
        Assert.Equal([string.Empty], filter.Metadata[1].Values);
    }

    [Theory]
    [InlineData("offset=0&limit=1", 0, 1)]
    [InlineData("offset=99999&limit=100", 99999, 100)]
    [InlineData("offset=5", 5, null)]
    public void Parse_ValidPagination_Accepted(string query, int offset, int? limit)
    {
        var filter = Parse(query);
        Assert.Equal(offset, filter.Offset);
        Assert.Equal(limit, filter.Limit);
    }

    [Theory]
    [InlineData("offset=-1", "invalidParamOffset")]
    [InlineData("offset=+1", "invalidParamOffset")]
    [InlineData("offset=99999999999", "invalidParamOffset")]
    [InlineData("limit=0", "invalidParamLimit")]
    [InlineData("limit=101", "invalidParamLimit")]
    [InlineData("limit=%201", "invalidParamLimit")]
    public void Parse_InvalidPagination_Refused(string query, string messageKey) =>
        Assert.Equal(messageKey, Error(query)?.MessageKey);

    [Fact]
    public void Parse_FilteredModeWithoutIds_Refused()
    {
        Assert.Equal("missingParameters", Error("state=any", requireIdFilter: true)?.MessageKey);
        Assert.Null(Error("meetingID=m", requireIdFilter: true));
        Assert.Null(Error("recordID=r", requireIdFilter: true));
    }

    [Theory]
    [InlineData("abc", "abc%")]
    [InlineData("a_b%c\\", "a\\_b\\%c\\\\%")]
    public void LikePrefix_Wildcards_Escaped(string prefix, string pattern) =>
        Assert.Equal(pattern, RecordingQuery.LikePrefix(prefix));

    [Fact]
    public void Page_MeetingAndMetaFilters_UseEqualityForSingleValuesAndKeysetAfterFirstPage()
    {
        using var command = RecordingQuery.Page("", Parse("meetingID=m&meta_k=v1,v2"), 100, 0, new RecordingQuery.Cursor(DateTimeOffset.UnixEpoch, 42));
        Assert.Contains("r.meeting_id = @p2", command.CommandText, StringComparison.Ordinal);
        Assert.Contains("m.value = ANY(@p4)", command.CommandText, StringComparison.Ordinal);
        Assert.Contains("r.start_time <= @p5", command.CommandText, StringComparison.Ordinal);
        Assert.EndsWith("ORDER BY r.start_time DESC, r.id DESC LIMIT @p7", command.CommandText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://bbb1.example.org/playback/presentation/2.3/r1?x=1", "https://lb.example.com/playback/presentation/2.3/r1?x=1")]
    [InlineData("http://bbb1.example.org:8080/podcast/r1/audio.ogg", "https://lb.example.com/podcast/r1/audio.ogg")]
    [InlineData("/presentation/r1/thumb.png", "https://lb.example.com/presentation/r1/thumb.png")]
    [InlineData("ftp://elsewhere/x", "ftp://elsewhere/x")]
    public void Rewrite_Urls_PointAtTheCalledHost(string stored, string expected) =>
        Assert.Equal(expected, PublicUrls.Rewrite(stored, "https://lb.example.com"));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(29_999, 0)]
    [InlineData(30_000, 1)]
    [InlineData(32_860, 1)]
    [InlineData(31_900_000, 532)]
    public void Minutes_DurationInMilliseconds_RoundedToMinutes(long ms, long minutes) =>
        Assert.Equal(minutes, RecordingsXml.Minutes(ms));

    [Fact]
    public void Write_AwkwardValues_StayWellFormedAndUnchanged()
    {
        var row = new RecordingRow
        {
            Id = 1,
            RecordId = "r1",
            MeetingId = "m\u0001 & <x>",
            InternalMeetingId = "i1",
            Name = "a ]]> b",
            State = "published",
        };
        row.Metadata.Add(new("ok-key", "v ]]> w"));
        row.Metadata.Add(new("1bad key", "dropped"));
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, new XmlWriterSettings { CheckCharacters = false, Encoding = new UTF8Encoding(false) }))
        {
            RecordingsXml.Write(writer, row, "https://lb", null);
        }

        var element = XElement.Parse(Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Equal("a ]]> b", element.Element("name")!.Value);
        Assert.Equal("m & <x>", element.Element("meetingID")!.Value);
        Assert.Equal("v ]]> w", element.Element("metadata")!.Element("ok-key")!.Value);
        Assert.Single(element.Element("metadata")!.Elements());
    }
}
