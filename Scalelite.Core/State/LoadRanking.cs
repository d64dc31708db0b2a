using System.Globalization;
using Scalelite.Core.Pool;
using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>
/// Every placeable server's current load in one Redis sorted set (<c>sl:load</c>), the part of it that only size
/// hints account for in another (<c>sl:hint</c>), and the seats reserved by recent creates per server
/// (<c>sl:srv:{id}:g</c>, meeting key → <see cref="SeatReservation"/>). The poller settles the load each cycle;
/// creates reserve at once (<see cref="Pool.Placement.MeetingPlacement"/>) and joins add theirs through <see cref="JoinLoadBuffer"/>,
/// so a burst between polls spreads out.
/// </summary>
/// <remarks>
/// Every writer goes through a Lua script, which Redis runs one at a time: a create's reservation (the bump and
/// the record of it) is one step of placement's script, and the poller's settle adds every reservation it did not
/// account for, so a create placed while a poll is in flight is never overwritten by that poll's older view.
/// </remarks>
public sealed class LoadRanking(IConnectionMultiplexer redis)
{
    internal const string LoadKey = "sl:load";
    internal const string HintKey = "sl:hint";

    // Join load (see PutJoins: ARGV[j] is how many, then server, amount pairs), added only to servers still in the
    // ranking: a join must not bring back a server the poller took out. The one copy of this step: the flush
    // (IncrementLua) and placement's script (MeetingPlacement) both include it.
    internal const string AddJoinsLua = """
        for k = j + 1, j + 2 * tonumber(ARGV[j]), 2 do
          if redis.call('ZSCORE', KEYS[1], ARGV[k]) then redis.call('ZINCRBY', KEYS[1], ARGV[k + 1], ARGV[k]) end
        end

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

    // A reservation made while Redis was down, written once it answers: recorded for the poller's settle, and added to
    // the ranking as placement's script would have added it (only to servers still in it). Written once, however often
    // it is repeated. ARGV: server id, meeting key, reservation, bump, hint bump. KEYS: sl:load, sl:hint, its reservations.
    private const string RestoreLua = """
        if redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[3]) == 0 then return 0 end
        if redis.call('ZSCORE', KEYS[1], ARGV[1]) then redis.call('ZINCRBY', KEYS[1], ARGV[4], ARGV[1]) end
        if tonumber(ARGV[5]) > 0 and redis.call('ZSCORE', KEYS[2], ARGV[1]) then redis.call('ZINCRBY', KEYS[2], ARGV[5], ARGV[1]) end
        return 1
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>The reservations held on a server (meeting key → <see cref="SeatReservation.Serialize"/>).</summary>
    internal static RedisKey ReservationsKey(string serverId) => $"sl:srv:{serverId}:g";

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
    internal static void PutJoins(RedisValue[] args, int at, IReadOnlyList<(string ServerId, double Amount)> joins)
    {
        args[at] = joins.Count;
        for (var i = 0; i < joins.Count; i++)
        {
            args[at + 1 + (2 * i)] = joins[i].ServerId;
            args[at + 2 + (2 * i)] = joins[i].Amount;
        }
    }

    /// <summary>Writes the seats a create reserved while Redis was down (see <see cref="Pool.Placement.MeetingPlacement"/>).</summary>
    public Task RestoreReservationAsync(string serverId, string meetingKey, SeatReservation reservation) =>
        Db.ScriptEvaluateAsync(RestoreLua, [LoadKey, HintKey, ReservationsKey(serverId)], [serverId, meetingKey, reservation.Serialize(), reservation.Bump, reservation.HintBump]);

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
