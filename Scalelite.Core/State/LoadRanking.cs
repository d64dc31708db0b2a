using System.Globalization;
using Scalelite.Core.Pool;
using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>A server a create may be placed on, with what placing it there would add to its ranking.</summary>
public readonly record struct ReserveCandidate(string Id, double FallbackLoad, SeatReservation Reservation);

/// <summary>
/// Every placeable server's current load in one Redis sorted set (<c>sl:load</c>), the part of it that only size
/// hints account for in another (<c>sl:hint</c>), and the seats reserved by recent creates per server
/// (<c>sl:srv:{id}:g</c>, meeting key → <see cref="SeatReservation"/>). The poller settles the load each cycle;
/// creates reserve at once and joins add theirs through <see cref="JoinLoadBuffer"/>, so a burst between polls spreads out.
/// </summary>
/// <remarks>
/// Both writers go through Lua scripts, which Redis runs one at a time: a create's reservation (the bump and
/// the record of it) is one step, and the poller's settle adds every reservation it did not account for, so a
/// create placed while a poll is in flight is never overwritten by that poll's older view.
/// </remarks>
public sealed class LoadRanking(IConnectionMultiplexer redis)
{
    private const string LoadKey = "sl:load";
    private const string HintKey = "sl:hint";

    // Placement's final pick, atomic so that API replicas placing at the same moment see each other.
    // A meeting without a size hint takes the lowest base load (load less hinted seats); a hinted one takes, among
    // servers within its own bump of the lowest load, the one with the fewest hinted seats, then the lowest load.
    // Ties go to the earliest candidate (the policy's order). See LeastLoadedPlacementPolicy for why.
    // Join load (see PutJoins: ARGV[j] is how many, then server, amount pairs), added only to servers still in the
    // ranking: a join must not bring back a server the poller took out. Shared by IncrementLua and ReserveLua.
    private const string AddJoinsLua = """
        for k = j + 1, j + 2 * tonumber(ARGV[j]), 2 do
          if redis.call('ZSCORE', KEYS[1], ARGV[k]) then redis.call('ZINCRBY', KEYS[1], ARGV[k + 1], ARGV[k]) end
        end

        """;

    // The joins this replica routed since its last flush come first (after the candidates), in the same step.
    private const string ReserveLua = """
        local n = tonumber(ARGV[1])
        local member = ARGV[2]
        local j = 3 + n * 5

        """ + AddJoinsLua + """
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
    private const string ReleaseLua = """
        local v = redis.call('HGET', KEYS[3], ARGV[2])
        if not v then return 0 end
        redis.call('HDEL', KEYS[3], ARGV[2])
        local f = {}
        for part in string.gmatch(v, '[^|]+') do f[#f + 1] = part end
        if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('ZINCRBY', KEYS[1], -tonumber(f[3]), ARGV[1]) end
        if tonumber(f[4]) > 0 and redis.call('ZSCORE', KEYS[2], ARGV[1]) then redis.call('ZINCRBY', KEYS[2], -tonumber(f[4]), ARGV[1]) end
        return 1
        """;

    private const string IncrementLua = """
        local j = 1

        """ + AddJoinsLua + """
        return 0
        """;

    // The poller's write: its observed load plus every reservation made since it read them.
    private const string SettleLua = """
        local id = ARGV[1]
        local accounted = {}
        local na = tonumber(ARGV[5])
        for i = 6, 5 + na do accounted[ARGV[i]] = true end
        for i = 6 + na, #ARGV do redis.call('HDEL', KEYS[3], ARGV[i]) end
        local load, hint = tonumber(ARGV[2]), tonumber(ARGV[3])
        local all = redis.call('HGETALL', KEYS[3])
        for i = 1, #all, 2 do
          if not accounted[all[i]] then
            local f = {}
            for part in string.gmatch(all[i + 1], '[^|]+') do f[#f + 1] = part end
            load = load + tonumber(f[3]); hint = hint + tonumber(f[4])
          end
        end
        if ARGV[4] == '1' then
          redis.call('ZADD', KEYS[1], load, id)
          redis.call('ZADD', KEYS[2], hint, id)
        else
          redis.call('ZREM', KEYS[1], id)
          redis.call('ZREM', KEYS[2], id)
        end
        return tostring(load)
        """;

    private IDatabase Db => redis.GetDatabase();

    private static RedisKey ReservationsKey(string serverId) => $"sl:srv:{serverId}:g";

    /// <summary>
    /// Chooses among <paramref name="candidates"/> (see the script's rule) and reserves the meeting's seats there.
    /// A candidate missing from the ranking (after a Redis loss) enters with its fallback load, the last one the
    /// poller recorded. <paramref name="joins"/> (from <see cref="JoinLoadBuffer.TakeForPlacementAsync"/>) are added
    /// to the ranking first, in the same step.
    /// </summary>
    public async Task<string?> ReserveAsync(string member, IReadOnlyList<ReserveCandidate> candidates, IReadOnlyList<(string ServerId, double Amount)>? joins = null)
    {
        if (candidates.Count == 0)
        {
            return null;
        }

        joins ??= [];
        var args = new RedisValue[3 + (candidates.Count * 5) + (joins.Count * 2)];
        args[0] = candidates.Count;
        args[1] = member;
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            var b = 2 + (i * 5);
            args[b] = c.Id;
            args[b + 1] = c.FallbackLoad;
            args[b + 2] = c.Reservation.Bump;
            args[b + 3] = c.Reservation.HintBump;
            args[b + 4] = c.Reservation.Serialize();
        }

        PutJoins(args, 2 + (candidates.Count * 5), joins);
        var result = await Db.ScriptEvaluateAsync(ReserveLua, [LoadKey, HintKey], args);
        return result.IsNull ? null : result.ToString();
    }

    /// <summary>Gives back the seats a create reserved on a server that then did not take the meeting.</summary>
    public Task ReleaseAsync(string serverId, string member) =>
        Db.ScriptEvaluateAsync(ReleaseLua, [LoadKey, HintKey, ReservationsKey(serverId)], [serverId, member]);

    /// <summary>
    /// Adds to the load of each server, in one step. A server no longer in the ranking (offline, cordoned, removed
    /// since) stays out of it: only the poller's settle brings a server back.
    /// </summary>
    public Task IncrementAsync(IReadOnlyList<(string ServerId, double Amount)> increments)
    {
        var args = new RedisValue[1 + (increments.Count * 2)];
        PutJoins(args, 0, increments);
        return Db.ScriptEvaluateAsync(IncrementLua, [LoadKey], args);
    }

    // The layout AddJoinsLua reads: from args[at], how many, then each server and amount.
    private static void PutJoins(RedisValue[] args, int at, IReadOnlyList<(string ServerId, double Amount)> joins)
    {
        args[at] = joins.Count;
        for (var i = 0; i < joins.Count; i++)
        {
            args[at + 1 + (2 * i)] = joins[i].ServerId;
            args[at + 2 + (2 * i)] = joins[i].Amount;
        }
    }

    public Task SetAsync(string serverId, double load) => Db.SortedSetAddAsync(LoadKey, serverId, load);

    public async Task RemoveAsync(string serverId)
    {
        var batch = Db.CreateBatch();
        var a = batch.SortedSetRemoveAsync(LoadKey, serverId);
        var b = batch.SortedSetRemoveAsync(HintKey, serverId);
        batch.Execute();
        await Task.WhenAll(a, b);
    }

    /// <summary>The reservations held on each of <paramref name="serverIds"/>, read in one pipelined batch.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, SeatReservation>>> ReservationsAsync(IReadOnlyList<string> serverIds)
    {
        var batch = Db.CreateBatch();
        var reads = serverIds.Select(id => batch.HashGetAllAsync(ReservationsKey(id))).ToList();
        batch.Execute();
        await Task.WhenAll(reads);
        var result = new Dictionary<string, IReadOnlyDictionary<string, SeatReservation>>(StringComparer.Ordinal);
        for (var i = 0; i < serverIds.Count; i++)
        {
            var map = new Dictionary<string, SeatReservation>(StringComparer.Ordinal);
            foreach (var entry in reads[i].Result)
            {
                if (SeatReservation.Parse(entry.Value) is { } reservation)
                {
                    map[entry.Name.ToString()] = reservation;
                }
            }

            result[serverIds[i]] = map;
        }

        return result;
    }

    /// <summary>
    /// Writes what the poller observed: <paramref name="load"/> (and its hinted part) plus the reservations made
    /// since it read them, i.e. all but <paramref name="accounted"/>; drops <paramref name="drop"/>. When the server
    /// cannot take meetings it leaves the ranking instead. Returns the load written.
    /// </summary>
    public Task<double> SettleAsync(string serverId, double load, double hintLoad, bool placeable, IReadOnlyCollection<string> accounted, IReadOnlyCollection<string> drop) =>
        SettleAsync(Db, serverId, load, hintLoad, placeable, accounted, drop);

    /// <summary>As <see cref="SettleAsync(string, double, double, bool, IReadOnlyCollection{string}, IReadOnlyCollection{string})"/>, queued on a batch.</summary>
    public static async Task<double> SettleAsync(IDatabaseAsync db, string serverId, double load, double hintLoad, bool placeable, IReadOnlyCollection<string> accounted, IReadOnlyCollection<string> drop)
    {
        var args = new List<RedisValue>(5 + accounted.Count + drop.Count) { serverId, load, hintLoad, placeable ? "1" : "0", accounted.Count };
        args.AddRange(accounted.Select(m => (RedisValue)m));
        args.AddRange(drop.Select(m => (RedisValue)m));
        var result = await db.ScriptEvaluateAsync(SettleLua, [LoadKey, HintKey, ReservationsKey(serverId)], [.. args]);
        return double.Parse(result.ToString(), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<string, double>> GetAllAsync()
    {
        var entries = await Db.SortedSetRangeByRankWithScoresAsync(LoadKey);
        return entries.ToDictionary(e => e.Element.ToString(), e => e.Score);
    }
}
