using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Meetings;
using Scalelite.Core.Meetings.History;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Placement;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Meetings;

/// <summary>
/// A meeting's events as logs, traces and history: every entry names the meeting by its IDs, server and tenant as
/// structured fields, and the join path does nothing for them that nobody reads.
/// </summary>
public sealed class MeetingEventsTests
{
    private static readonly ServerSnapshot Server = new("s1", "https://bbb1.example.org/bigbluebutton/api", "secret", null, ServerState.Enabled, true, 1, 0);

    [Fact]
    public void Placed_LogsTheMeetingIdentityAsFieldsAndInTheLine_AndKeepsThePlacement()
    {
        var history = new RecordedHistory();
        var logger = new FieldLogger(LogLevel.Information);
        var events = new MeetingEvents(history, TimeProvider.System, logger);

        events.Placed(":class-1", Server, "abc123-1790000000000", [new PlacementCandidate("s1", 3), new PlacementCandidate("s2", 15.5)], ["s3"]);

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Equal("class-1", entry.Fields["meetingID"]);
        Assert.Equal("abc123-1790000000000", entry.Fields["internalMeetingID"]);
        Assert.Equal("s1", entry.Fields["serverId"]);
        Assert.Equal("bbb1.example.org", entry.Fields["serverHost"]);
        Assert.Equal(string.Empty, entry.Fields["tenant"]);
        Assert.Contains("meetingID=class-1 internalMeetingID=abc123-1790000000000 serverId=s1 serverHost=bbb1.example.org tenant=", entry.Message, StringComparison.Ordinal);
        Assert.Contains("s1=3* s2=15.5", entry.Message, StringComparison.Ordinal);

        var created = Assert.IsType<MeetingCreatedChange>(Assert.Single(history.Changes));
        Assert.Equal("abc123-1790000000000", created.Meeting.InternalMeetingId);
        Assert.Equal([new HistoryCandidate("s1", 3, true, true), new HistoryCandidate("s2", 15.5, false, true)], created.Candidates);
    }

    [Fact]
    public void Joined_DebugOff_CountsTheJoinAndLogsNothing()
    {
        var history = new RecordedHistory();
        var logger = new FieldLogger(LogLevel.Information);
        var events = new MeetingEvents(history, TimeProvider.System, logger);

        events.Joined(string.Empty, "class-1", Server);
        events.Joined(string.Empty, "class-1", Server);

        Assert.False(events.LogsCalls);
        Assert.Empty(logger.Entries);
        Assert.Empty(history.Changes);
        Assert.Equal(2, history.Joins[(string.Empty, "class-1", "s1")]);
    }

    [Fact]
    public void Joined_DebugOn_LogsTheJoinWithItsFields()
    {
        var logger = new FieldLogger(LogLevel.Debug);
        var events = new MeetingEvents(new RecordedHistory(), TimeProvider.System, logger);

        events.Joined("t1", "class-1", Server, "abc123-1");

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, entry.Level);
        Assert.Equal("abc123-1", entry.Fields["internalMeetingID"]);
        Assert.Equal("t1", entry.Fields["tenant"]);
    }

    [Fact]
    public void Ended_OutsideARequest_StartsASpanTaggedWithTheMeeting()
    {
        var spans = new List<Activity>();
        using var listener = Listen(MeetingTelemetry.Source.Name, spans);
        var history = new RecordedHistory();
        var events = new MeetingEvents(history, TimeProvider.System, new FieldLogger(LogLevel.Information));

        events.Ended(MeetingIdentity.On(Server, string.Empty, "class-1", "abc123-1"), MeetingEndCause.DisappearedFromPoll);

        // Other tests' meetings may be traced meanwhile: only this one's host is bbb1.example.org.
        var span = Assert.Single(Snapshot(spans), a => Equals(a.GetTagItem(MeetingTelemetry.ServerHostTag), "bbb1.example.org"));
        Assert.Equal("meeting ended", span.OperationName);
        Assert.Equal("class-1", span.GetTagItem(MeetingTelemetry.MeetingIdTag));
        Assert.Equal("abc123-1", span.GetTagItem(MeetingTelemetry.InternalMeetingIdTag));
        Assert.Equal("s1", span.GetTagItem(MeetingTelemetry.ServerIdTag));
        Assert.Equal("bbb1.example.org", span.GetTagItem(MeetingTelemetry.ServerHostTag));
        Assert.Equal("poll", span.GetTagItem("scalelite.meeting.ended_by"));
        var ended = Assert.IsType<MeetingEndedChange>(Assert.Single(history.Changes));
        Assert.Equal("poll", ended.EndedBy);
    }

    [Fact]
    public void Joined_DuringARecordedRequest_TagsTheRequestSpan()
    {
        var spans = new List<Activity>();
        using var requests = new ActivitySource("Scalelite.Tests.Requests");
        using var listener = Listen(requests.Name, spans);
        var events = new MeetingEvents(new RecordedHistory(), TimeProvider.System, new FieldLogger(LogLevel.Information));

        using (var request = requests.StartActivity("GET join"))
        {
            events.Joined(string.Empty, "class-1", Server);
        }

        var span = Assert.Single(spans);
        Assert.Equal("class-1", span.GetTagItem(MeetingTelemetry.MeetingIdTag));
        Assert.Equal("s1", span.GetTagItem(MeetingTelemetry.ServerIdTag));
    }

    [Fact]
    public void FromKey_TenantAndMeetingIdHoldingColons_SplitsAtTheFirst()
    {
        var meeting = MeetingIdentity.FromKey("t1:room:a", Server);

        Assert.Equal("t1", meeting.Tenant);
        Assert.Equal("room:a", meeting.MeetingId);
        Assert.Equal("bbb1.example.org", meeting.ServerHost);
    }

    private static List<Activity> Snapshot(List<Activity> spans)
    {
        lock (spans)
        {
            return [.. spans];
        }
    }

    private static ActivityListener Listen(string source, List<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (stopped)
                {
                    stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private sealed record Entry(LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Fields);

    /// <summary>Keeps each entry's structured fields, as a JSON or OTLP log would carry them.</summary>
    private sealed class FieldLogger(LogLevel minimum) : ILogger<MeetingEvents>
    {
        public List<Entry> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = (state as IEnumerable<KeyValuePair<string, object?>>)?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [];
            Entries.Add(new Entry(logLevel, formatter(state, exception), fields));
        }
    }
}
