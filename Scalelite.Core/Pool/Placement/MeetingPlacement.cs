using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
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
}

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
/// <item><b>Create, skip once, give back</b>: the create goes to the chosen server. One that answers with an error has
/// refused the meeting, and its answer is the create's answer. One that does not answer is skipped once and the pick is
/// made again among the rest (at most <see cref="Attempts"/> servers); the poller takes it out if it stays silent. Either
/// way the seats reserved on it are given back at once (<see cref="ReleaseLua"/>), not at the next poll. One that does
/// not answer is also left out of the creates that follow until a probe of it succeeds (<see cref="UnresponsiveServers"/>),
/// so a hung server costs one create its timeout, not every create until the poller takes it out.</item>
/// </list>
/// The key layout and the join step's script are <see cref="LoadRanking"/>'s, shared with the join flush and the poller.
/// </remarks>
public sealed partial class MeetingPlacement(
    IServerDirectory directory,
    IPlacementPolicy policy,
    LoadCalculator load,
    JoinLoadBuffer joins,
    UnresponsiveServers unresponsive,
    IConnectionMultiplexer redis,
    IOptions<BackendOptions> backend,
    ILogger<MeetingPlacement> logger)
{
    /// <summary>Servers one create is sent to at most: the first pick, and one more when it does not answer.</summary>
    public const int Attempts = 2;

    // ARGV: n, meeting key, then per candidate (id, fallback load, bump, hint bump, reservation), then the joins in
    // LoadRanking.PutJoins's layout. KEYS: sl:load, sl:hint. Returns the chosen id. The reservation goes to
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
        return id
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

        var remaining = plan.Candidates.ToList();
        // This replica's joins count before it chooses (other replicas' within JoinLoadBuffer's interval).
        var pendingJoins = await joins.TakeForPlacementAsync();
        for (var attempt = 0; attempt < Attempts && remaining.Count > 0; attempt++)
        {
            var chosenId = await ReserveAsync(plan.MeetingKey, remaining, plan.Seats, pendingJoins);
            pendingJoins = [];
            if (remaining.Find(s => s.Id == chosenId) is not { } server)
            {
                break;
            }

            remaining.Remove(server);
            var response = await create(server);
            if (response.IsSuccess)
            {
                Monitoring.PlacementMetrics.Placed(server.Id);
                Log.Placed(logger, plan.MeetingKey, server.Id, response.Element("createTime"));
                return new PlacementOutcome(server, response);
            }

            await ReleaseAsync(server.Id, plan.MeetingKey);
            if (response.Answered)
            {
                return new PlacementOutcome(server, response);
            }

            Log.CreateFailed(logger, plan.MeetingKey, server.Id, response.Error);
            await unresponsive.ReportAsync(server.Id);
        }

        return PlacementOutcome.NoServer;
    }

    private async Task<string?> ReserveAsync(string meetingKey, List<ServerSnapshot> candidates, int seats, IReadOnlyList<(string ServerId, double Amount)> pendingJoins)
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
        return result.IsNull ? null : result.ToString();
    }

    private Task<RedisResult> ReleaseAsync(string serverId, string meetingKey) =>
        redis.GetDatabase().ScriptEvaluateAsync(ReleaseLua, [LoadRanking.LoadKey, LoadRanking.HintKey, LoadRanking.ReservationsKey(serverId)], [serverId, meetingKey]);

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Meeting {MeetingKey} placed on server {ServerId} (createTime {CreateTime})")]
        public static partial void Placed(ILogger logger, string meetingKey, string serverId, string? createTime);

        [LoggerMessage(LogLevel.Warning, "Create of {MeetingKey} on server {ServerId} got no answer: {Error}")]
        public static partial void CreateFailed(ILogger logger, string meetingKey, string serverId, string? error);
    }
}
