using Scalelite.Core.State;
using StackExchange.Redis;

namespace Scalelite.Core.Tenancy;

/// <summary>Which meetings run for each tenant, in Redis: its meeting limit, and meeting IDs that two tenants may not share.</summary>
/// <remarks>
/// <para>Keys: <c>sl:t:{tenant}:m</c>, a set of the tenant's meeting keys (<c>{tenant}:{meetingID}</c>, as
/// <see cref="MeetingRegistry"/> names them). A create adds its meeting before it is placed; the poller adds every
/// meeting it sees, so the set heals after a Redis loss. Nothing removes a member when a meeting ends: a member counts
/// only while its meeting is registered (<c>sl:m:{key}</c>) or its create lock is held, and the others are dropped
/// whenever the set is counted. A failed create therefore gives its place back as soon as it lets go of the lock.</para>
/// <para>With multitenancy on, creates lock the bare meeting ID (<see cref="LockMember"/>), not the tenant's key, so
/// that two tenants creating one meeting ID take turns, and the second sees the first's meeting.</para>
/// </remarks>
public sealed class TenantMeetings(IConnectionMultiplexer redis)
{
    private static readonly LuaScript ReserveScript = LuaScript.Prepare("""
        local members = redis.call('SMEMBERS', @set)
        local count = 0
        for _, m in ipairs(members) do
          local id = string.sub(m, tonumber(@prefix) + 1)
          if redis.call('EXISTS', 'sl:m:' .. m) == 1 or redis.call('EXISTS', 'sl:lock:create:*:' .. id) == 1 then
            if m ~= @member then count = count + 1 end
          else
            redis.call('SREM', @set, m)
          end
        end
        if tonumber(@max) >= 0 and count >= tonumber(@max) then return -1 end
        if @member ~= '' then redis.call('SADD', @set, @member) end
        return count
        """);

    private IDatabase Db => redis.GetDatabase();

    private static RedisKey SetKey(string tenantId) => $"sl:t:{tenantId}:m";

    /// <summary>The create lock's name for a meeting ID when multitenancy is on: one lock whichever tenant creates.</summary>
    public static string LockMember(string meetingId) => "*:" + meetingId;

    /// <summary>Counts the tenant's running meetings and, unless that reaches <paramref name="max"/>, adds <paramref name="member"/>.</summary>
    /// <returns>False when the tenant already runs <paramref name="max"/> meetings (the new one is not among them).</returns>
    public async Task<bool> TryReserveAsync(string tenantId, string member, int? max)
    {
        var result = (long)await Db.ScriptEvaluateAsync(ReserveScript, new { set = SetKey(tenantId), prefix = tenantId.Length + 1, member, max = max ?? -1 });
        return result >= 0;
    }

    /// <summary>The tenant's running meetings, as far as Redis knows (stale members dropped).</summary>
    public async Task<int> CountAsync(string tenantId) =>
        (int)(long)await Db.ScriptEvaluateAsync(ReserveScript, new { set = SetKey(tenantId), prefix = tenantId.Length + 1, member = string.Empty, max = -1 });

    /// <summary>Adds meetings the poller saw running (one pipelined batch).</summary>
    public async Task AddAsync(IEnumerable<(string TenantId, string Member)> meetings)
    {
        var batch = Db.CreateBatch();
        var writes = meetings.GroupBy(m => m.TenantId, StringComparer.Ordinal)
            .Select(g => batch.SetAddAsync(SetKey(g.Key), [.. g.Select(m => (RedisValue)m.Member)]))
            .ToList();
        batch.Execute();
        await Task.WhenAll(writes);
    }

    /// <summary>Whether another of <paramref name="tenantIds"/> than <paramref name="ownTenantId"/> has a meeting with this ID registered.</summary>
    public async Task<bool> HeldByAnotherAsync(string meetingId, string ownTenantId, IEnumerable<string> tenantIds)
    {
        RedisKey[] keys = [.. tenantIds.Where(t => t != ownTenantId).Distinct(StringComparer.Ordinal)
            .Select(t => (RedisKey)("sl:m:" + MeetingRegistry.MeetingKey(t, meetingId)))];
        return keys.Length > 0 && await Db.KeyExistsAsync(keys) > 0;
    }
}
