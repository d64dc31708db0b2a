namespace Scalelite.BbbSimulator;

/// <summary>An attendee recorded by a join.</summary>
internal sealed record Attendee(string UserId, string FullName, bool IsModerator, long JoinedAt, string ClientType);

/// <summary>
/// One meeting on one simulated server. Immutable identity is set at create; everything that joins,
/// the control routes or breakout creation change is guarded by <see cref="Sync"/>, which writers of
/// XML and JSON also take so an answer is always a consistent snapshot.
/// </summary>
internal sealed class Meeting
{
    public required string MeetingId { get; init; }

    public required string InternalMeetingId { get; init; }

    public required string Name { get; init; }

    public required string AttendeePassword { get; init; }

    public required string ModeratorPassword { get; init; }

    public required long CreateTime { get; init; }

    public required string CreateDate { get; init; }

    public required string VoiceBridge { get; init; }

    public required string DialNumber { get; init; }

    public required int Duration { get; init; }

    public required bool Recording { get; init; }

    public required int MaxUsers { get; init; }

    public required bool IsBreakout { get; init; }

    public string? ParentMeetingId { get; init; }

    public int Sequence { get; init; }

    public bool FreeJoin { get; init; }

    /// <summary>Metadata names as BBB keeps them: the <c>meta_</c> prefix removed, lower-cased, in request order.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Metadata { get; init; }

    public Lock Sync { get; } = new();

    public bool Running { get; set; }

    public bool HasUserJoined { get; set; }

    public List<Attendee> Attendees { get; } = [];

    public List<string> BreakoutRooms { get; } = [];

    public int SyntheticViewers { get; set; }

    public int SyntheticVideo { get; set; }

    /// <remarks>Caller holds <see cref="Sync"/>.</remarks>
    public int ParticipantCount => Attendees.Count + SyntheticViewers;

    /// <remarks>Caller holds <see cref="Sync"/>.</remarks>
    public int ModeratorCount
    {
        get
        {
            var n = 0;
            foreach (var a in Attendees)
            {
                if (a.IsModerator)
                {
                    n++;
                }
            }

            return n;
        }
    }

    /// <remarks>Joins carry no camera, so only the synthetic streams count.</remarks>
    public int VideoCount => SyntheticVideo;
}
