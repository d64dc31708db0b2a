using Scalelite.Core.FromScalelite;

namespace Scalelite.Tests.Core.FromScalelite;

public sealed class RecordingMappingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static SourceRecording Row(string? recordId = "rec-1", string? meetingId = "m-1", int? length = 42, IReadOnlyList<SourceMetadatum>? metadata = null) => new(
        7, recordId, meetingId, null, true, null, null, new DateTime(2025, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc), null, null, true, true,
        metadata ?? [new("bbb-origin", "Moodle"), new("empty", null)],
        [new SourcePlaybackFormat(1, "presentation", "/playback/presentation/2.3/rec-1", length, null,
            [new SourceThumbnail(176, 136, "Slide 2", "/t2.png", 1), new SourceThumbnail(null, null, null, "/t1.png", 0)])]);

    [Fact]
    public void Map_ScaleliteRow_TakesItsFieldsWithTheGapsFilledAsScaleliteAnswersThem()
    {
        var (recording, problem) = RecordingMapping.Map(Row(), "", Now);

        Assert.Null(problem);
        Assert.NotNull(recording);
        Assert.Equal("rec-1", recording.RecordId);
        Assert.Equal("rec-1", recording.InternalMeetingId);
        Assert.Equal(string.Empty, recording.Name);
        Assert.Equal(string.Empty, recording.State);
        Assert.Equal(0, recording.Participants);
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero), recording.StartTime);
        Assert.Equal(DateTimeOffset.UnixEpoch, recording.EndTime);
        Assert.True(recording.Protected);
        Assert.True(recording.PublishUpdated);
        Assert.Equal([("bbb-origin", "Moodle"), ("empty", "")], recording.Metadata.Select(m => (m.Key, m.Value)));
        var format = Assert.Single(recording.Formats);
        Assert.Equal(42 * 60_000, format.Duration);
        Assert.Equal(0, format.ProcessingTime);
        Assert.Equal([("/t2.png", 1), ("/t1.png", 0)], format.Thumbnails.Select(t => (t.Url, t.Sequence)));
    }

    [Theory]
    [InlineData(null, "m", "no record_id")]
    [InlineData("r", null, "no meeting_id")]
    public void Map_RowWithoutKeys_IsRefusedWithReason(string? recordId, string? meetingId, string reason)
    {
        var (recording, problem) = RecordingMapping.Map(Row(recordId, meetingId), "", Now);
        Assert.Null(recording);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_ValueLongerThanOurColumn_IsRefusedWithReason()
    {
        var (recording, problem) = RecordingMapping.Map(Row(meetingId: new string('m', 513)), "", Now);
        Assert.Null(recording);
        Assert.Equal("a meetingID longer than 512 characters", problem);
    }

    [Fact]
    public void Apply_OntoAnotherRecording_MakesItsFingerprintScaleliteRows()
    {
        var (wanted, _) = RecordingMapping.Map(Row(), "", Now);
        var (ours, _) = RecordingMapping.Map(Row(length: 3, metadata: [new("course", "x"), new("bbb-origin", "Other")]), "", Now);
        ours!.Formats.Add(new Scalelite.Core.Persistence.Recordings.PlaybackFormat { Format = "video", Url = "/v" });

        RecordingMapping.Apply(ours, wanted!, Now);

        Assert.Equal(Fingerprint.Of(RecordingMapping.Project(wanted!)), Fingerprint.Of(RecordingMapping.Project(ours)));
        Assert.Equal(["bbb-origin", "empty"], ours.Metadata.Select(m => m.Key).Order(StringComparer.Ordinal));
        Assert.Equal("presentation", Assert.Single(ours.Formats).Format);
    }

    [Fact]
    public void Fingerprint_OrderOfMetadataAndThumbnails_DoesNotMatter()
    {
        var (a, _) = RecordingMapping.Map(Row(metadata: [new("a", "1"), new("b", "2")]), "", Now);
        var (b, _) = RecordingMapping.Map(Row(metadata: [new("b", "2"), new("a", "1")]), "", Now);
        Assert.Equal(Fingerprint.Of(RecordingMapping.Project(a!)), Fingerprint.Of(RecordingMapping.Project(b!)));
    }

    [Theory]
    [InlineData("---\n:recording_ready_url: https://lms.example.com/ready?a=1&b=2\n", "https://lms.example.com/ready?a=1&b=2", null)]
    [InlineData("---\n:recording_ready_url: https://a.example/r\n:analytics_callback_url: https://a.example/an\n", "https://a.example/r", "https://a.example/an")]
    [InlineData("--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nrecording_ready_url: 'https://a.example/x'\n", "https://a.example/x", null)]
    [InlineData("--- {}\n", null, null)]
    [InlineData(":: [unclosed", null, null)]
    [InlineData("", null, null)]
    public void ParseAttributes_RubyYaml_FindsTheCallbackUrls(string yaml, string? ready, string? analytics)
    {
        var attributes = ScaleliteSource.ParseAttributes(yaml);
        Assert.Equal(ready, attributes.GetValueOrDefault("recording_ready_url"));
        Assert.Equal(analytics, attributes.GetValueOrDefault("analytics_callback_url"));
    }
}
