using System.Globalization;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.State;

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
    string? TenantId,
    bool Recording = false,
    string? VoiceBridge = null)
{
    /// <summary>The registry's key of this meeting (<c>{tenant}:{meetingID}</c>).</summary>
    public string Member => MeetingRegistry.MeetingKey(TenantId ?? string.Empty, MeetingId);
}

/// <summary>What one poll of a server observed.</summary>
/// <param name="Load">The estimated load: observed users, raised to each young meeting's remaining reservation.</param>
/// <param name="HintLoad">The part of <paramref name="Load"/> that only size hints account for (no user seen yet).</param>
public sealed record ServerObservation(int Meetings, int Users, int LargestMeeting, int Videos, double Load, double HintLoad = 0)
{
    /// <summary>A server that runs nothing: its load is known exactly, whatever the reservations.</summary>
    public static readonly ServerObservation Empty = new(0, 0, 0, 0, 0);
}

/// <summary>A server's load as one poll settles it, and what became of the reservations held on it.</summary>
/// <param name="Accounted">Reservations still counted: of reported meetings, or of meetings placed since the poll began.</param>
/// <param name="Dropped">Reservations given up: faded, or of creates that never reached the server.</param>
public sealed record LoadSettlement(ServerObservation Observation, IReadOnlyList<string> Accounted, IReadOnlyList<string> Dropped);

/// <summary>
/// Ghost seats held for one meeting from its create until the poller has watched its users arrive.
/// <see cref="Bump"/> and <see cref="HintBump"/> are what the create added to the ranking (multiplier included).
/// </summary>
public sealed record SeatReservation(int Seats, DateTimeOffset PlacedAt, double Bump, double HintBump)
{
    /// <summary>The form kept in Redis: seats, placed (Unix ms), bump, hint bump.</summary>
    public string Serialize() => string.Create(CultureInfo.InvariantCulture, $"{Seats}|{PlacedAt.ToUnixTimeMilliseconds()}|{Bump:R}|{HintBump:R}");

    public static SeatReservation? Parse(string? value)
    {
        var parts = value?.Split('|');
        if (parts is not { Length: 4 }
            || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var seats)
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var placed)
            || !double.TryParse(parts[2], CultureInfo.InvariantCulture, out var bump)
            || !double.TryParse(parts[3], CultureInfo.InvariantCulture, out var hint))
        {
            return null;
        }

        return new SeatReservation(seats, DateTimeOffset.FromUnixTimeMilliseconds(placed), bump, hint);
    }
}

/// <summary>Turns observed meetings and seat reservations into a server's load.</summary>
/// <remarks>
/// <para>A meeting's observed load is <c>UserWeight × participants + ModeratorWeight × moderators + VideoWeight × videos
/// + MeetingWeight</c>. The defaults (1, 1, 0, 0) are Scalelite's formula, participantCount + moderatorCount, kept so
/// that loads compare across a migration. Breakout rooms are excluded because their users are already counted in
/// the parent meeting. A server's load is the sum over its meetings times the server's load multiplier.</para>
/// <para>Ghost seats: a create reserves seats at once, at least <c>LOAD_MIN_USER_COUNT</c>, more when the LMS passes a
/// size hint (<c>meta_bbb-meeting-size-hint</c>, else <c>maxParticipants</c>, capped by <c>MaxSizeHint</c>). While a
/// meeting is younger than <c>LOAD_JOIN_BUFFER_TIME</c> it counts max(observed load, remaining reservation). The
/// minimum part stays whole for the entire buffer time (Scalelite's rule); the hinted part fades linearly to
/// nothing over it, so a class that turns out smaller than its hint gives its seats back as the poller watches
/// users arrive, and one that fills up is counted by its real users.</para>
/// </remarks>
public sealed class LoadCalculator(IOptions<LoadOptions> options, TimeProvider time)
{
    /// <summary>The seats every new meeting reserves, hint or not.</summary>
    public int MinimumSeats => Math.Max(1, options.Value.MinUserCount);

    public ServerObservation Observe(IReadOnlyCollection<ObservedMeeting> meetings, double multiplier) =>
        Observe(meetings, multiplier, null, []);

    /// <summary>
    /// The load of a server from its reported meetings and the reservations held on it. <paramref name="pending"/> are
    /// reservations of meetings placed there that the server did not report yet (created after its answer).
    /// </summary>
    public ServerObservation Observe(
        IReadOnlyCollection<ObservedMeeting> meetings,
        double multiplier,
        IReadOnlyDictionary<string, SeatReservation>? reservations,
        IReadOnlyCollection<SeatReservation> pending)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var youngSince = now - TimeSpan.FromMinutes(o.JoinBufferTime);
        int users = 0, largest = 0, videos = 0;
        double weighted = 0, hint = 0;
        foreach (var m in meetings)
        {
            users += m.Participants;
            largest = Math.Max(largest, m.Participants);
            videos += m.Videos;
            if (m.IsBreakout)
            {
                continue;
            }

            var observed = (o.UserWeight * m.Participants) + (o.ModeratorWeight * m.Moderators) + (o.VideoWeight * m.Videos) + o.MeetingWeight;
            var floor = m.CreatedAt > youngSince ? Math.Max(observed, SeatLoad(o.MinUserCount)) : observed;
            var estimate = floor;
            if (reservations is not null && reservations.TryGetValue(m.Member, out var reservation))
            {
                estimate = Math.Max(floor, SeatLoad(RemainingSeats(reservation.Seats, now - reservation.PlacedAt)));
            }

            weighted += estimate;
            hint += estimate - floor;
        }

        foreach (var reservation in pending)
        {
            var seats = RemainingSeats(reservation.Seats, now - reservation.PlacedAt);
            weighted += SeatLoad(seats);
            hint += SeatLoad(seats) - SeatLoad(Math.Min(seats, MinimumSeats));
        }

        return new ServerObservation(meetings.Count, users, largest, videos, weighted * multiplier, hint * multiplier);
    }

    /// <summary>
    /// The load of a server from one poll's answer and the reservations held on it, sorting the reservations: those of
    /// reported meetings are counted with them; those of meetings placed after <paramref name="cutoff"/> that the server
    /// did not report yet (created after it answered) are counted whole; the rest (faded, or of creates that never
    /// reached the server) are dropped.
    /// </summary>
    public LoadSettlement Settle(
        IReadOnlyList<ObservedMeeting> reported, double multiplier, IReadOnlyDictionary<string, SeatReservation> reservations, DateTimeOffset cutoff)
    {
        var accounted = new List<string>();
        var dropped = new List<string>();
        var pending = new List<SeatReservation>();
        if (reservations.Count > 0)
        {
            var reportedKeys = new HashSet<string>(reported.Select(m => m.Member), StringComparer.Ordinal);
            var buffer = TimeSpan.FromMinutes(options.Value.JoinBufferTime);
            var now = time.GetUtcNow();
            foreach (var (member, reservation) in reservations)
            {
                var young = now - reservation.PlacedAt < buffer;
                if (young && reportedKeys.Contains(member))
                {
                    accounted.Add(member);
                }
                else if (young && reservation.PlacedAt > cutoff)
                {
                    accounted.Add(member);
                    pending.Add(reservation);
                }
                else
                {
                    dropped.Add(member);
                }
            }
        }

        return new LoadSettlement(Observe(reported, multiplier, reservations, pending), accounted, dropped);
    }

    /// <summary>The seats a create reserves: the minimum, or the LMS's size hint when larger (capped).</summary>
    public int ReserveSeats(string? sizeHint, string? maxParticipants)
    {
        var hinted = ParseCount(sizeHint) ?? ParseCount(maxParticipants) ?? 0;
        return Math.Max(MinimumSeats, Math.Min(hinted, options.Value.MaxSizeHint));
    }

    /// <summary>The reservation a create adds to a server's ranking, at once.</summary>
    public SeatReservation Reservation(int seats, double multiplier) =>
        new(seats, time.GetUtcNow(), SeatLoad(seats) * multiplier, (SeatLoad(seats) - SeatLoad(Math.Min(seats, MinimumSeats))) * multiplier);

    /// <summary>The immediate bump a join adds: one user of default weight; the next poll replaces it by the weighted truth.</summary>
    public static double JoinBump(double multiplier) => multiplier;

    /// <summary>What is left of a reservation of <paramref name="seats"/> after <paramref name="age"/>; 0 once the meeting is no longer young.</summary>
    public double RemainingSeats(int seats, TimeSpan age)
    {
        var buffer = TimeSpan.FromMinutes(options.Value.JoinBufferTime);
        if (age >= buffer)
        {
            return 0;
        }

        var left = Math.Clamp(1 - (Math.Max(0, age.Ticks) / (double)buffer.Ticks), 0, 1);
        return Math.Max(Math.Min(seats, MinimumSeats), seats * left);
    }

    private double SeatLoad(double seats) => (options.Value.UserWeight * seats) + options.Value.MeetingWeight;

    private static int? ParseCount(string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
}
