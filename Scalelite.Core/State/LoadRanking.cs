using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>
/// Every placeable server's current load in one Redis sorted set (<c>sl:load</c>). The poller writes the
/// observed load each cycle; creates and joins bump it at once, so a burst between polls spreads out.
/// </summary>
public sealed class LoadRanking(IConnectionMultiplexer redis)
{
    private const string Key = "sl:load";

    // Picks the lowest-loaded candidate (the first in the given order wins a tie) and bumps it, atomically,
    // so that API replicas placing at the same moment see each other's reservations.
    private const string ReserveLua = """
        local best, bestScore, bestBump
        for i = 1, #ARGV, 3 do
          local id = ARGV[i]
          local s = redis.call('ZSCORE', KEYS[1], id)
          if not s then
            s = ARGV[i + 1]
            redis.call('ZADD', KEYS[1], 'NX', s, id)
          end
          s = tonumber(s)
          if best == nil or s < bestScore then
            best = id; bestScore = s; bestBump = ARGV[i + 2]
          end
        end
        if best then redis.call('ZINCRBY', KEYS[1], bestBump, best) end
        return best
        """;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Chooses the lowest load among <paramref name="candidates"/> and adds its bump. A candidate missing from
    /// the ranking (after a Redis loss) enters with its fallback load, the last one the poller recorded.
    /// </summary>
    public async Task<string?> ReserveAsync(IReadOnlyList<(string Id, double FallbackLoad, double Bump)> candidates)
    {
        if (candidates.Count == 0)
        {
            return null;
        }

        var args = new RedisValue[candidates.Count * 3];
        for (var i = 0; i < candidates.Count; i++)
        {
            args[i * 3] = candidates[i].Id;
            args[(i * 3) + 1] = candidates[i].FallbackLoad;
            args[(i * 3) + 2] = candidates[i].Bump;
        }

        var result = await Db.ScriptEvaluateAsync(ReserveLua, [Key], args);
        return result.IsNull ? null : result.ToString();
    }

    /// <summary>Adds to a server's load without waiting (the join path must not wait on it).</summary>
    public void Bump(string serverId, double amount) =>
        Db.SortedSetIncrement(Key, serverId, amount, CommandFlags.FireAndForget);

    public Task SetAsync(string serverId, double load) => Db.SortedSetAddAsync(Key, serverId, load);

    public Task RemoveAsync(string serverId) => Db.SortedSetRemoveAsync(Key, serverId);

    public async Task<IReadOnlyDictionary<string, double>> GetAllAsync()
    {
        var entries = await Db.SortedSetRangeByRankWithScoresAsync(Key);
        return entries.ToDictionary(e => e.Element.ToString(), e => e.Score);
    }
}
