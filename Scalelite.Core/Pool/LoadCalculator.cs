using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;

namespace Scalelite.Core.Pool;

/// <summary>One meeting as a backend's getMeetings reports it, reduced to what load and ownership need.</summary>
public sealed record ObservedMeeting(
    string MeetingId,
    string InternalMeetingId,
    int Participants,
    int Moderators,
    int Videos,
    bool IsBreakout,
    DateTimeOffset CreatedAt,
    string? TenantId);

/// <summary>What one poll of a server observed.</summary>
public sealed record ServerObservation(int Meetings, int Users, int LargestMeeting, int Videos, double Load);

/// <summary>Turns observed meetings into a server's load.</summary>
/// <remarks>
/// As Scalelite: load = Σ over non-breakout meetings of (participantCount + moderatorCount), where a meeting
/// younger than <c>LOAD_JOIN_BUFFER_TIME</c> counts at least <c>LOAD_MIN_USER_COUNT</c> (its users are
/// still arriving), times the server's load multiplier. Breakout rooms are excluded because their users
/// are already counted in the parent meeting.
/// </remarks>
public sealed class LoadCalculator(IOptions<LoadOptions> options, TimeProvider time)
{
    public ServerObservation Observe(IReadOnlyCollection<ObservedMeeting> meetings, double multiplier)
    {
        var o = options.Value;
        var youngSince = time.GetUtcNow() - TimeSpan.FromMinutes(o.JoinBufferTime);
        int users = 0, largest = 0, videos = 0;
        double weighted = 0;
        foreach (var m in meetings)
        {
            users += m.Participants;
            largest = Math.Max(largest, m.Participants);
            videos += m.Videos;
            if (m.IsBreakout)
            {
                continue;
            }

            // Scalelite weighs participantCount + moderatorCount; kept so that loads compare across a migration.
            var attendees = m.Participants + m.Moderators;
            weighted += m.CreatedAt > youngSince ? Math.Max(attendees, o.MinUserCount) : attendees;
        }

        return new ServerObservation(meetings.Count, users, largest, videos, weighted * multiplier);
    }

    /// <summary>The immediate bump a new meeting adds before the next poll sees it.</summary>
    public double CreateBump(double multiplier) => Math.Max(1, options.Value.MinUserCount) * multiplier;

    /// <summary>The immediate bump a join adds.</summary>
    public static double JoinBump(double multiplier) => multiplier;
}
