using System.ComponentModel.DataAnnotations;

namespace Scalelite.Core.Meetings.History;

/// <summary>The meeting history's settings (section <c>MeetingHistory</c>).</summary>
public sealed class MeetingHistoryOptions
{
    public const string Section = "MeetingHistory";

    /// <summary>Days an ended meeting is kept (<c>MEETING_HISTORY_DAYS</c>).</summary>
    [Range(1, 3650)] public int Days { get; set; } = 30;
}

/// <summary>Where the meeting history's changes go: never waits, never throws.</summary>
public interface IMeetingHistory
{
    /// <summary>Queues a change for the next write; dropped (and counted) when the queue is full.</summary>
    void Add(MeetingHistoryChange change);

    /// <summary>Counts one join, in memory; the sums are written with the next flush.</summary>
    void CountJoin(string tenant, string meetingId, string serverId);
}
