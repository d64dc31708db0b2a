using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Meetings;
using Scalelite.Core.State;
using StackExchange.Redis;

namespace Scalelite.Core.Pool.Placement;

/// <summary>A new meeting about to be placed: the servers that may take it, in tie-break order, and the seats it reserves.</summary>
/// <param name="MissingTag">Set when the meeting requires a server tag that no server offers; then nothing may be tried.</param>
public sealed record PlacementPlan(string MeetingKey, IReadOnlyList<ServerSnapshot> Candidates, int Seats, string? MissingTag);

/// <summary>How a placement ended: placed, refused by the server that was asked, or no server took it.</summary>
/// <param name="Server">The server the create went to last; null when none could be tried.</param>
/// <param name="Response">That server's answer: a success, or the answered error to pass on. Null when no server answered.</param>
public sealed record PlacementOutcome(ServerSnapshot? Server, BackendResponse? Response)
{
    public static readonly PlacementOutcome NoServer = new(null, null);

    /// <summary>The server took the meeting; its seats stay reserved until the poller sees the users.</summary>
    [MemberNotNullWhen(true, nameof(Server), nameof(Response))]
    public bool Placed => Response is { IsSuccess: true };

    /// <summary>The servers the first pick chose among, with the loads it saw (the meeting history keeps them).</summary>
    public IReadOnlyList<PlacementCandidate> Candidates { get; init; } = [];

    /// <summary>Servers a create was sent to that did not answer.</summary>
    public IReadOnlyList<string> Unanswered { get; init; } = [];
}

/// <summary>A server a pick chose among, and its load in the ranking at that moment (before the meeting's seats).</summary>
public readonly record struct PlacementCandidate(string ServerId, double Load);

/// <summary>Where a new meeting goes: the one place that picks its server, reserves its seats there and gives them back when the create fails.</summary>
/// <remarks>
/// The rule, step by step:
/// <list type="number">
/// <item><b>Filter</b> (<see cref="IPlacementPolicy"/>, <c>PlacementPolicy.cs</c>): enabled, online servers with a known load,
/// the <c>meta_server-tag</c> rules, in an order rotated by a stable hash of the meeting so that equal loads spread and
/// every replica breaks a tie the same way.</item>
/// <item><b>Seats</b> (<see cref="LoadCalculator.ReserveSeats"/>): the meeting's ghost seats, <c>LOAD_MIN_USER_COUNT</c>
/// or the LMS's size hint (<c>meta_bbb-meeting-size-hint</c>, else <c>maxParticipants</c>, capped) when larger, times
/// the user weight and each server's multiplier.</item>
/// <item><b>Pick and reserve, in one step</b> (<see cref="ReserveLua"/>): Redis runs the script alone, so API replicas
/// placing at the same moment see each other's seats. It first adds the joins this replica routed since its last
/// flush (<see cref="JoinLoadBuffer.TakeForPlacementAsync"/>), so the choice counts them without a round trip of its
/// own. A candidate missing from the ranking (after a Redis loss) enters with the load the poller last recorded. The
/// pick is the lowest load, with hinted seats balanced as a resource of their own: a meeting without a hint takes the
/// lowest load not counting hinted seats; a hinted one takes, among the servers within its own size of the lowest
/// load, the one holding the fewest hinted seats, then the lowest load. Ties go to the earliest candidate. Hinted seats
/// are an estimate, and one large class placed late in a herd onto the emptiest server would leave that server a whole
/// class above the rest; this way large classes spread by count and small ones level the remainder. Hinted seats fade
/// over <c>LOAD_JOIN_BUFFER_TIME</c>, after which both rules are plain lowest load. The same step adds the seats to
/// <c>sl:load</c>, the hinted part to <c>sl:hint</c>, and records the reservation in <c>sl:srv:{id}:g</c> for the poller.</item>
/// <item><b>Create, skip once, give back</b> (<see cref="TryCandidatesAsync"/>, shared by both placements): the create goes to the chosen server. One that answers with an error has
/// refused the meeting, and its answer is the create's answer. One that does not answer is skipped once and the pick is
/// made again among the rest (at most <see cref="Attempts"/> servers); the poller takes it out if it stays silent. Either
/// way the seats reserved on it are given back at once (<see cref="ReleaseLua"/>), not at the next poll. One that does
/// not answer is also left out of the creates that follow until a probe of it succeeds (<see cref="UnresponsiveServers"/>),
/// so a hung server costs one create its timeout, not every create until the poller takes it out.</item>
/// </list>
/// The key layout and the join step's script are <see cref="LoadRanking"/>'s, shared with the join flush and the poller.
/// <para><b>Without Redis</b> (<see cref="PlaceWithoutRedisAsync"/>, while <see cref="IRedisBreaker"/> is open) the same
/// filter and the same pick are made in memory, on what this replica knows: each candidate's load as the poller last
/// recorded it (the server snapshot), plus the seats of every meeting this replica placed since Redis went away and the
/// joins it routed meanwhile (<see cref="JoinLoadBuffer.PendingFor"/>). Hinted seats count apart as above, the hinted
/// part of the recorded loads being unknown. The seats are held here and written to Redis with their original placing
/// time when it answers again (<see cref="RestoreHeldSeatsAsync"/>), so the poller settles them as any other. Other
/// replicas' placements are not seen until then.</para>
/// The script also returns the loads it chose by, so that the meeting history can show why the meeting went where it did
/// (<see cref="MeetingEvents.Placed"/>).
/// </remarks>
public sealed class MeetingPlacement(
    IServerDirectory directory,
    IPlacementPolicy policy,
    LoadCalculator load,
    JoinLoadBuffer joins,
    LoadRanking ranking,
    IRedisBreaker breaker,
    UnresponsiveServers unresponsive,
    IConnectionMultiplexer redis,
    IOptions<BackendOptions> backend,
    MeetingEvents events) : IDisposable
{
    /// <summary>Servers one create is sent to at most: the first pick, and one more when it does not answer.</summary>
    public const int Attempts = 2;

    // ARGV: n, meeting key, then per candidate (id, fallback load, bump, hint bump, reservation), then the joins in
    // LoadRanking.PutJoins's layout. KEYS: sl:load, sl:hint. Returns the chosen id, then each candidate's load as it
    // stood when it was chosen (as text: Redis would truncate a Lua number to an integer). The reservation goes to
    // sl:srv:{id}:g (LoadRanking.ReservationsKey), named inside the script because only the script knows the id.
    internal const string ReserveLua = """
        local n = tonumber(ARGV[1])
        local member = ARGV[2]
        local j = 3 + n * 5

        """ + LoadRanking.AddJoinsLua + """
        local ids, loads, hints = {}, {}, {}
        local minLoad
        for i = 1, n do
          local b = 3 + (i - 1) * 5
          local id = ARGV[b]
          local s = redis.call('ZSCORE', KEYS[1], id)
          if not s then
            s = ARGV[b + 1]
            redis.call('ZADD', KEYS[1], 'NX', s, id)
          end
          s = tonumber(s)
          ids[i] = id; loads[i] = s
          hints[i] = math.max(0, tonumber(redis.call('ZSCORE', KEYS[2], id) or '0'))
          if minLoad == nil or s < minLoad then minLoad = s end
        end
        local best
        for i = 1, n do
          local b = 3 + (i - 1) * 5
          local hinted = tonumber(ARGV[b + 3]) > 0
          if hinted then
            if loads[i] <= minLoad + tonumber(ARGV[b + 2]) then
              if best == nil or hints[i] < hints[best] or (hints[i] == hints[best] and loads[i] < loads[best]) then best = i end
            end
          elseif best == nil or loads[i] - hints[i] < loads[best] - hints[best] then
            best = i
          end
        end
        if best == nil then return nil end
        local b = 3 + (best - 1) * 5
        local id = ids[best]
        redis.call('ZINCRBY', KEYS[1], ARGV[b + 2], id)
        if tonumber(ARGV[b + 3]) > 0 then redis.call('ZINCRBY', KEYS[2], ARGV[b + 3], id) end
        redis.call('HSET', 'sl:srv:' .. id .. ':g', member, ARGV[b + 4])
        local out = {id}
        for i = 1, n do out[i + 1] = tostring(loads[i]) end
        return out
        """;

    // Takes back a reservation whose create failed: only what it added, and only from entries that still exist.
    // ARGV: server id, meeting key. KEYS: sl:load, sl:hint, the server's reservations.
    internal const string ReleaseLua = """
        local v = redis.call('HGET', KEYS[3], ARGV[2])
        if not v then return 0 end
        redis.call('HDEL', KEYS[3], ARGV[2])
        local f = {}
        for part in string.gmatch(v, '[^|]+') do f[#f + 1] = part end
        if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('ZINCRBY', KEYS[1], -tonumber(f[3]), ARGV[1]) end
        if tonumber(f[4]) > 0 and redis.call('ZSCORE', KEYS[2], ARGV[1]) then redis.call('ZINCRBY', KEYS[2], -tonumber(f[4]), ARGV[1]) end
        return 1
        """;

    /// <summary>The longest <see cref="PlaceAsync"/> waits on servers: every attempt's create may run into the response timeout.</summary>
    public TimeSpan LongestPlacement => TimeSpan.FromSeconds(Attempts * backend.Value.ResponseTimeout);

    /// <summary>
    /// The candidates and seats for a create with these (already merged) parameters, from this replica's server snapshot.
    /// No I/O: a meeting whose required tag is missing is refused before anything is reserved for it.
    /// </summary>
    public PlacementPlan Plan(string meetingKey, BbbParameters parameters)
    {
        var candidates = policy.Candidates(directory.All, new PlacementRequest(meetingKey, TagRequirement.Parse(parameters["meta_server-tag"])));
        var seats = load.ReserveSeats(parameters["meta_bbb-meeting-size-hint"], parameters["maxParticipants"]);
        return new PlacementPlan(meetingKey, unresponsive.Filter(candidates.Servers), seats, candidates.MissingTag);
    }

    /// <summary>
    /// Picks a server, reserves the seats there and sends it the create (<paramref name="create"/>, which must not
    /// throw for a server that fails: it answers with a failed <see cref="BackendResponse"/>). See the remarks for the rule.
    /// </summary>
    public async Task<PlacementOutcome> PlaceAsync(PlacementPlan plan, Func<ServerSnapshot, Task<BackendResponse>> create)
    {
        // Nothing to choose from: the pending joins stay in the buffer for its next flush rather than be taken here.
        if (plan.Candidates.Count == 0)
        {
            return PlacementOutcome.NoServer;
        }

        // This replica's joins count before it chooses (other replicas' within JoinLoadBuffer's interval).
        var pendingJoins = await joins.TakeForPlacementAsync();
        return await TryCandidatesAsync(plan, create, Reserve, Release);

        async Task<(ServerSnapshot?, IReadOnlyList<PlacementCandidate>)> Reserve(List<ServerSnapshot> remaining)
        {
            string? chosenId;
            IReadOnlyList<PlacementCandidate> loads;
            try
            {
                (chosenId, loads) = await ReserveAsync(plan.MeetingKey, remaining, plan.Seats, pendingJoins);
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
                // The joins taken for the script go back for the next flush (unless it may still run, see Return).
                joins.Return(pendingJoins, ex);
                throw;
            }

            // Added by the first script that ran; the next attempt must not add them again.
            pendingJoins = [];
            return (remaining.Find(s => s.Id == chosenId), loads);
        }

        async Task Release(ServerSnapshot server)
        {
            try
            {
                await ReleaseAsync(server.Id, plan.MeetingKey);
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
                // The poller's settle drops the reservation of a create that never reached its server.
            }
        }
    }

    /// <summary>
    /// The tail both placements share, with Redis or without: the one place that says what happens to a create that fails.
    /// </summary>
    /// <remarks>
    /// Up to <see cref="Attempts"/> times: <paramref name="pick"/> chooses among the candidates not yet tried and reserves
    /// the seats there (null: nothing left to pick); the create goes to that server. A success keeps the seats. Any failure
    /// gives them back at once through <paramref name="release"/>, not at the next poll. A server that answered with an
    /// error has refused the meeting, and its answer is the create's, so nothing else is tried; one that did not answer is
    /// skipped, left out of the creates that follow (<see cref="UnresponsiveServers"/>), and the pick is made again among
    /// the rest. The loads recorded for the meeting history are the first pick's.
    /// </remarks>
    private async Task<PlacementOutcome> TryCandidatesAsync(
        PlacementPlan plan,
        Func<ServerSnapshot, Task<BackendResponse>> create,
        Func<List<ServerSnapshot>, Task<(ServerSnapshot? Server, IReadOnlyList<PlacementCandidate> Loads)>> pick,
        Func<ServerSnapshot, Task> release)
    {
        var remaining = plan.Candidates.ToList();
        IReadOnlyList<PlacementCandidate> seen = [];
        var unanswered = new List<string>();
        for (var attempt = 0; attempt < Attempts && remaining.Count > 0; attempt++)
        {
            var (server, loads) = await pick(remaining);
            seen = attempt == 0 ? loads : seen;
            if (server is null)
            {
                break;
            }

            remaining.Remove(server);
            var response = await create(server);
            if (response.IsSuccess)
            {
                Monitoring.PlacementMetrics.Placed(server.Id);
                events.Placed(plan.MeetingKey, server, response.Element("internalMeetingID"), seen, unanswered);
                return new PlacementOutcome(server, response) { Candidates = seen, Unanswered = unanswered };
            }

            await release(server);
            if (response.Answered)
            {
                return new PlacementOutcome(server, response) { Candidates = seen, Unanswered = unanswered };
            }

            events.CreateUnanswered(plan.MeetingKey, server, response.Error);
            unanswered.Add(server.Id);
            await unresponsive.ReportAsync(server.Id);
        }

        // Which servers were tried tells "none answered" (Scalelite's "Unable to create meeting on server.") from "none to try".
        return PlacementOutcome.NoServer with { Candidates = seen, Unanswered = unanswered };
    }

    private sealed record HeldSeats(string ServerId, SeatReservation Reservation);

    // Seats reserved while Redis was down, by meeting key; written to Redis when it answers (RestoreHeldSeatsAsync).
    private readonly Dictionary<string, HeldSeats> _held = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _restoring = new(1, 1);

    /// <summary>
    /// As <see cref="PlaceAsync"/>, made in memory while Redis is down: see the remarks. The seats stay held on the
    /// chosen server until Redis is back.
    /// </summary>
    public async Task<PlacementOutcome> PlaceWithoutRedisAsync(PlacementPlan plan, Func<ServerSnapshot, Task<BackendResponse>> create)
    {
        var outcome = await TryCandidatesAsync(
            plan,
            create,
            remaining => Task.FromResult<(ServerSnapshot?, IReadOnlyList<PlacementCandidate>)>(HoldSeats(plan, remaining)),
            _ =>
            {
                lock (_held)
                {
                    _held.Remove(plan.MeetingKey);
                }

                return Task.CompletedTask;
            });

        if (outcome.Placed && !breaker.IsOpen)
        {
            // Redis came back while this create was under way, after the held seats were written.
            _ = RestoreHeldSeatsLaterAsync();
        }

        return outcome;
    }

    /// <summary>
    /// Gives back the seats of a meeting placed on <paramref name="serverId"/> that was then ended at once (its create
    /// could not be completed): held in memory while Redis is down, else reserved in Redis. Best effort: a reservation
    /// left behind is dropped by the poller's settle, which does not see the meeting.
    /// </summary>
    public async Task GiveBackAsync(string meetingKey, string serverId)
    {
        lock (_held)
        {
            if (_held.Remove(meetingKey))
            {
                return;
            }
        }

        if (breaker.IsOpen)
        {
            return;
        }

        try
        {
            await ReleaseAsync(serverId, meetingKey);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
        }
    }

    /// <summary>Picks among <paramref name="candidates"/> by the loads this replica knows, and holds the seats there.</summary>
    private (ServerSnapshot Server, IReadOnlyList<PlacementCandidate> Loads) HoldSeats(PlacementPlan plan, List<ServerSnapshot> candidates)
    {
        lock (_held)
        {
            var loads = new double[candidates.Count];
            var hints = new double[candidates.Count];
            var reservations = new SeatReservation[candidates.Count];
            for (var i = 0; i < candidates.Count; i++)
            {
                var server = candidates[i];
                loads[i] = (server.Load ?? 0) + joins.PendingFor(server.Id);
                foreach (var held in _held.Values)
                {
                    if (held.ServerId == server.Id)
                    {
                        loads[i] += held.Reservation.Bump;
                        hints[i] += held.Reservation.HintBump;
                    }
                }

                reservations[i] = load.Reservation(plan.Seats, server.LoadMultiplier);
            }

            var best = Pick(loads, hints, reservations);
            _held[plan.MeetingKey] = new HeldSeats(candidates[best].Id, reservations[best]);
            return (candidates[best], [.. candidates.Select((c, i) => new PlacementCandidate(c.Id, loads[i]))]);
        }
    }

    /// <summary><see cref="ReserveLua"/>'s pick, in memory: the index of the chosen candidate.</summary>
    internal static int Pick(IReadOnlyList<double> loads, IReadOnlyList<double> hints, IReadOnlyList<SeatReservation> reservations)
    {
        var minLoad = loads.Min();
        var best = -1;
        for (var i = 0; i < loads.Count; i++)
        {
            if (reservations[i].HintBump > 0)
            {
                if (loads[i] <= minLoad + reservations[i].Bump
                    && (best < 0 || hints[i] < hints[best] || (hints[i] == hints[best] && loads[i] < loads[best])))
                {
                    best = i;
                }
            }
            else if (best < 0 || loads[i] - hints[i] < loads[best] - hints[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>
    /// Writes the seats held while Redis was down, each with the time it was placed, so that the poller settles them as
    /// any other reservation (<see cref="LoadRanking.RestoreReservationAsync"/>). A recovery step of <see cref="IRedisBreaker"/>.
    /// </summary>
    public async Task RestoreHeldSeatsAsync(CancellationToken ct)
    {
        await _restoring.WaitAsync(ct);
        try
        {
            List<KeyValuePair<string, HeldSeats>> held;
            lock (_held)
            {
                held = [.. _held];
            }

            foreach (var (meetingKey, seats) in held)
            {
                await ranking.RestoreReservationAsync(seats.ServerId, meetingKey, seats.Reservation);
                lock (_held)
                {
                    if (_held.TryGetValue(meetingKey, out var now) && now == seats)
                    {
                        _held.Remove(meetingKey);
                    }
                }
            }
        }
        finally
        {
            _restoring.Release();
        }
    }

    public void Dispose() => _restoring.Dispose();

    private async Task RestoreHeldSeatsLaterAsync()
    {
        try
        {
            await RestoreHeldSeatsAsync(CancellationToken.None);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            // Down again: the next recovery writes them.
        }
    }

    private async Task<(string? Id, IReadOnlyList<PlacementCandidate> Loads)> ReserveAsync(string meetingKey, List<ServerSnapshot> candidates, int seats, IReadOnlyList<(string ServerId, double Amount)> pendingJoins)
    {
        var args = new RedisValue[3 + (candidates.Count * 5) + (pendingJoins.Count * 2)];
        args[0] = candidates.Count;
        args[1] = meetingKey;
        for (var i = 0; i < candidates.Count; i++)
        {
            var server = candidates[i];
            var reservation = load.Reservation(seats, server.LoadMultiplier);
            var b = 2 + (i * 5);
            args[b] = server.Id;
            args[b + 1] = server.Load ?? 0;
            args[b + 2] = reservation.Bump;
            args[b + 3] = reservation.HintBump;
            args[b + 4] = reservation.Serialize();
        }

        LoadRanking.PutJoins(args, 2 + (candidates.Count * 5), pendingJoins);
        var result = await redis.GetDatabase().ScriptEvaluateAsync(ReserveLua, [LoadRanking.LoadKey, LoadRanking.HintKey], args);
        if (result.IsNull || (RedisResult[]?)result is not { Length: > 0 } parts)
        {
            return (null, []);
        }

        var loads = new PlacementCandidate[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            var seen = i + 1 < parts.Length && double.TryParse(parts[i + 1].ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var l) ? l : candidates[i].Load ?? 0;
            loads[i] = new PlacementCandidate(candidates[i].Id, seen);
        }

        return (parts[0].ToString(), loads);
    }

    private Task<RedisResult> ReleaseAsync(string serverId, string meetingKey) =>
        redis.GetDatabase().ScriptEvaluateAsync(ReleaseLua, [LoadRanking.LoadKey, LoadRanking.HintKey, LoadRanking.ReservationsKey(serverId)], [serverId, meetingKey]);
}
