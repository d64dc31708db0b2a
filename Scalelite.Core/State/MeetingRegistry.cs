using StackExchange.Redis;

namespace Scalelite.Core.State;

/// <summary>Which server owns a meeting, as the registry remembers it.</summary>
public sealed record MeetingRecord(
    string TenantId,
    string MeetingId,
    string ServerId,
    DateTimeOffset CreatedAt,
    string? InternalMeetingId = null,
    string? VoiceBridge = null,
    string? ModeratorPassword = null,
    string? CreateHash = null,
    byte[]? CreateResponse = null)
{
    public string Key => MeetingRegistry.MeetingKey(TenantId, MeetingId);
}

/// <summary>A voice bridge number's meeting (<see cref="MeetingRegistry.FindByVoiceBridgeAsync"/>).</summary>
public sealed record VoiceBridgeHolder(string TenantId, string MeetingId, string ServerId);

/// <summary>
/// Meeting → server ownership in Redis: fast shared state that every API replica and the poller agree on.
/// It is derived state: after a Redis loss it is healed from the backends (see <see cref="IsAuthoritativeAsync"/>).
/// </summary>
/// <remarks>
/// Keys: <c>sl:m:{tenant}:{meetingID}</c> hash (s = server, t = created ms, i, vb, mp, h, r);
/// <c>sl:srv:{server}:m</c> set of meeting keys; <c>sl:vb:{number}</c> voice bridge reservation;
/// <c>sl:lock:create:{key}</c> create lock; <c>sl:ready</c> written by the poller once its view is complete.
/// </remarks>
public sealed class MeetingRegistry(IConnectionMultiplexer redis, TimeProvider time)
{
    private const string ReadyKey = "sl:ready";

    /// <summary>Every change of a meeting's owner is published here (the meeting key), for <see cref="MeetingOwnerCache"/>.</summary>
    public static readonly RedisChannel OwnerChangedChannel = RedisChannel.Literal("sl:owner-changed");

    private static readonly LuaScript ForgetScript = LuaScript.Prepare("""
        local s = redis.call('HGET', @key, 's')
        if not s then return 0 end
        if @server ~= '' and s ~= @server then return 0 end
        if tonumber(@cutoff) > 0 then
          local t = tonumber(redis.call('HGET', @key, 't') or '0')
          if t > tonumber(@cutoff) then return 0 end
        end
        local vb = redis.call('HGET', @key, 'vb')
        redis.call('DEL', @key)
        redis.call('SREM', 'sl:srv:' .. s .. ':m', @member)
        if vb then
          local vbKey = 'sl:vb:' .. vb
          if redis.call('GET', vbKey) == @member then redis.call('DEL', vbKey) end
        end
        return 1
        """);

    private static readonly LuaScript AdoptScript = LuaScript.Prepare("""
        if redis.call('EXISTS', @key) == 1 then return 0 end
        redis.call('HSET', @key, 's', @server, 't', @created, 'i', @internal)
        if @vb ~= '' then
          -- The running meeting keeps its number: reserved again so that no new meeting is given it.
          redis.call('HSET', @key, 'vb', @vb)
          redis.call('SET', 'sl:vb:' .. @vb, @member, 'EX', @ttl, 'NX')
        end
        redis.call('EXPIRE', @key, @ttl)
        redis.call('SADD', 'sl:srv:' .. @server .. ':m', @member)
        return 1
        """);

    private static readonly LuaScript ReleaseLockScript = LuaScript.Prepare("""
        if redis.call('GET', @key) == @token then return redis.call('DEL', @key) end
        return 0
        """);

    private IDatabase Db => redis.GetDatabase();

    public static string MeetingKey(string tenantId, string meetingId) => $"{tenantId}:{meetingId}";

    private static RedisKey HashKey(string member) => "sl:m:" + member;

    private static RedisKey ServerSetKey(string serverId) => $"sl:srv:{serverId}:m";

    /// <summary>The owner of a meeting: one round trip, the join hot path.</summary>
    public async Task<string?> FindServerIdAsync(string tenantId, string meetingId)
    {
        var value = await Db.HashGetAsync(HashKey(MeetingKey(tenantId, meetingId)), "s");
        return value.IsNullOrEmpty ? null : value.ToString();
    }

    public async Task<MeetingRecord?> FindAsync(string tenantId, string meetingId)
    {
        var entries = await Db.HashGetAllAsync(HashKey(MeetingKey(tenantId, meetingId)));
        if (entries.Length == 0)
        {
            return null;
        }

        var map = entries.ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!map.TryGetValue("s", out var server) || server.IsNullOrEmpty)
        {
            return null;
        }

        string? Str(string f) => map.TryGetValue(f, out var v) && !v.IsNullOrEmpty ? v.ToString() : null;
        var created = map.TryGetValue("t", out var t) && long.TryParse(t.ToString(), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : time.GetUtcNow();
        return new MeetingRecord(tenantId, meetingId, server.ToString(), created, Str("i"), Str("vb"), Str("mp"), Str("h"),
            map.TryGetValue("r", out var r) && !r.IsNullOrEmpty ? (byte[]?)r : null);
    }

    /// <summary>Records a meeting's owner (after a successful create, or when healing).</summary>
    public async Task RecordAsync(MeetingRecord record, TimeSpan ttl)
    {
        var member = record.Key;
        var tx = Db.CreateTransaction();
        _ = tx.KeyDeleteAsync(HashKey(member));
        _ = tx.HashSetAsync(HashKey(member), [.. Fields(record)]);
        _ = tx.KeyExpireAsync(HashKey(member), ttl);
        _ = tx.SetAddAsync(ServerSetKey(record.ServerId), member);
        await tx.ExecuteAsync();
        await PublishChangeAsync(member);
    }

    private static List<HashEntry> Fields(MeetingRecord record)
    {
        var fields = new List<HashEntry>
        {
            new("s", record.ServerId),
            new("t", record.CreatedAt.ToUnixTimeMilliseconds()),
        };
        if (record.InternalMeetingId is not null)
        {
            fields.Add(new("i", record.InternalMeetingId));
        }

        if (record.VoiceBridge is not null)
        {
            fields.Add(new("vb", record.VoiceBridge));
        }

        if (record.ModeratorPassword is not null)
        {
            fields.Add(new("mp", record.ModeratorPassword));
        }

        if (record.CreateHash is not null)
        {
            fields.Add(new("h", record.CreateHash));
        }

        if (record.CreateResponse is not null)
        {
            fields.Add(new("r", record.CreateResponse));
        }

        return fields;
    }

    // KEYS: the meeting's hash. ARGV: member, server, the owner it may replace ('' for none), ttl, voice bridge, then the
    // hash's fields and values. Returns {1} once recorded (or already owned by that server), {0, owner} when another
    // server owns it.
    private const string RecordUnlessOwnedLua = """
        local s = redis.call('HGET', KEYS[1], 's')
        if s == ARGV[2] then return {1} end
        if s and s ~= ARGV[3] then return {0, s} end
        if s then
          redis.call('SREM', 'sl:srv:' .. s .. ':m', ARGV[1])
          local vb = redis.call('HGET', KEYS[1], 'vb')
          if vb and vb ~= ARGV[5] and redis.call('GET', 'sl:vb:' .. vb) == ARGV[1] then redis.call('DEL', 'sl:vb:' .. vb) end
        end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], unpack(ARGV, 6))
        redis.call('EXPIRE', KEYS[1], ARGV[4])
        redis.call('SADD', 'sl:srv:' .. ARGV[2] .. ':m', ARGV[1])
        if ARGV[5] ~= '' then redis.call('SET', 'sl:vb:' .. ARGV[5], ARGV[1], 'EX', ARGV[4], 'NX') end
        return {1}
        """;

    /// <summary>
    /// Records an owner found or placed while Redis was down, unless another server owns the meeting by now (other than
    /// <paramref name="replacing"/>, an owner the caller has decided to displace). Returns that other owner, or null
    /// once recorded. The meeting's voice bridge is reserved for it, unless another meeting holds the number.
    /// </summary>
    public async Task<string?> RecordUnlessOwnedElsewhereAsync(MeetingRecord record, TimeSpan ttl, string? replacing = null)
    {
        var member = record.Key;
        var args = new List<RedisValue> { member, record.ServerId, replacing ?? string.Empty, (long)ttl.TotalSeconds, record.VoiceBridge ?? string.Empty };
        foreach (var field in Fields(record))
        {
            args.Add(field.Name);
            args.Add(field.Value);
        }

        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(RecordUnlessOwnedLua, [HashKey(member)], [.. args]))!;
        if ((int)result[0] == 0)
        {
            return result[1].ToString();
        }

        await PublishChangeAsync(member);
        return null;
    }

    /// <summary>Raised in this process, before the change is published to the other replicas.</summary>
    public event Action<string>? OwnerChanged;

    private Task<long> PublishChangeAsync(string member)
    {
        OwnerChanged?.Invoke(member);
        return Db.PublishAsync(OwnerChangedChannel, member, CommandFlags.FireAndForget);
    }

    /// <summary>Keeps a meeting seen by the poller alive in the registry.</summary>
    public Task TouchAsync(string member, TimeSpan ttl) => Db.KeyExpireAsync(HashKey(member), ttl);

    /// <summary>Records an owner found on a backend, unless the registry already has one (a create in flight wins).</summary>
    public async Task<bool> AdoptAsync(
        string tenantId, string meetingId, string serverId, DateTimeOffset createdAt, string? internalMeetingId, TimeSpan ttl, string? voiceBridge = null)
    {
        var member = MeetingKey(tenantId, meetingId);
        var result = await Db.ScriptEvaluateAsync(AdoptScript, new
        {
            key = HashKey(member),
            member,
            server = serverId,
            created = createdAt.ToUnixTimeMilliseconds(),
            @internal = internalMeetingId ?? string.Empty,
            ttl = (long)ttl.TotalSeconds,
            vb = voiceBridge ?? string.Empty,
        });
        if ((int)result == 1)
        {
            await PublishChangeAsync(member);
            return true;
        }

        return false;
    }

    /// <summary>Forgets a meeting, whoever owns it.</summary>
    public Task ForgetAsync(string tenantId, string meetingId) => ForgetCoreAsync(MeetingKey(tenantId, meetingId), string.Empty, 0);

    /// <summary>
    /// Forgets a meeting only if <paramref name="serverId"/> still owns it and it was placed before <paramref name="placedBefore"/>,
    /// so that the poller never forgets a meeting a create has just placed or re-placed (Scalelite #320).
    /// </summary>
    public Task<bool> ForgetIfStaleAsync(string member, string serverId, DateTimeOffset placedBefore) =>
        ForgetCoreAsync(member, serverId, placedBefore.ToUnixTimeMilliseconds());

    private async Task<bool> ForgetCoreAsync(string member, string serverId, long cutoff)
    {
        var result = await Db.ScriptEvaluateAsync(ForgetScript, new { key = HashKey(member), member, server = serverId, cutoff });
        if ((int)result == 1)
        {
            await PublishChangeAsync(member);
            return true;
        }

        return false;
    }

    /// <summary>The meeting keys a server owns (as <c>{tenant}:{meetingID}</c>).</summary>
    public async Task<IReadOnlyList<string>> ServerMeetingsAsync(string serverId)
    {
        var members = await Db.SetMembersAsync(ServerSetKey(serverId));
        return [.. members.Select(m => m.ToString())];
    }

    /// <summary>The meeting keys of each of <paramref name="serverIds"/>, read in one pipelined batch (the poller's per-cycle read).</summary>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> ServerMeetingsAsync(IReadOnlyList<string> serverIds)
    {
        var batch = Db.CreateBatch();
        var reads = serverIds.Select(id => batch.SetMembersAsync(ServerSetKey(id))).ToList();
        batch.Execute();
        var results = await Task.WhenAll(reads);
        return [.. results.Select(members => (IReadOnlyList<string>)[.. members.Select(m => m.ToString())])];
    }

    /// <summary>
    /// The internalMeetingIDs the registry holds for these meeting keys, read in one pipelined batch; a key without one
    /// is left out. Read before forgetting meetings, so that their end can be told with the ID the BBB node knows.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> InternalMeetingIdsAsync(IReadOnlyCollection<string> members)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        if (members.Count == 0)
        {
            return found;
        }

        var batch = Db.CreateBatch();
        var reads = members.Select(m => (Member: m, Read: batch.HashGetAsync(HashKey(m), "i"))).ToList();
        batch.Execute();
        foreach (var (member, read) in reads)
        {
            if (await read is { IsNullOrEmpty: false } value)
            {
                found[member] = value.ToString();
            }
        }

        return found;
    }

    /// <summary>Forgets every meeting of a server (it went offline, or an operator panicked it).</summary>
    public async Task<IReadOnlyList<string>> ForgetServerAsync(string serverId)
    {
        var members = await ServerMeetingsAsync(serverId);
        foreach (var member in members)
        {
            await ForgetCoreAsync(member, serverId, 0);
        }

        await Db.KeyDeleteAsync(ServerSetKey(serverId));
        return members;
    }

    /// <summary>Drops set entries whose meeting hash expired (TTL), keeping the per-server sets tidy.</summary>
    public async Task PruneServerSetAsync(string serverId, IEnumerable<string> members)
    {
        foreach (var member in members)
        {
            if (!await Db.KeyExistsAsync(HashKey(member)))
            {
                await Db.SetRemoveAsync(ServerSetKey(serverId), member);
            }
        }
    }

    /// <summary>Reserves a voice bridge number for a meeting; false when another meeting holds it.</summary>
    public async Task<bool> TryReserveVoiceBridgeAsync(string number, string member, TimeSpan ttl)
    {
        var key = (RedisKey)("sl:vb:" + number);
        if (await Db.StringSetAsync(key, member, ttl, When.NotExists))
        {
            return true;
        }

        var holder = await Db.StringGetAsync(key);
        return holder == member;
    }

    public Task ReleaseVoiceBridgeAsync(string number) => Db.KeyDeleteAsync("sl:vb:" + number);

    // A number counts only while its meeting is still registered; the fallback (a breakout room's number without its
    // last digit) is tried when the number itself leads to no meeting.
    private static readonly LuaScript FindByVoiceBridgeScript = LuaScript.Prepare("""
        local function find(number)
          if number == '' then return nil end
          local member = redis.call('GET', 'sl:vb:' .. number)
          if not member then return nil end
          local server = redis.call('HGET', 'sl:m:' .. member, 's')
          if not server then return nil end
          return {member, server}
        end
        return find(@number) or find(@fallback)
        """);

    /// <summary>The running meeting that holds a voice bridge number, and its owner, in one round trip (dial-in's lookup).</summary>
    /// <param name="fallback">Tried when <paramref name="number"/> leads to no running meeting.</param>
    public async Task<VoiceBridgeHolder?> FindByVoiceBridgeAsync(string number, string? fallback = null)
    {
        var result = await Db.ScriptEvaluateAsync(FindByVoiceBridgeScript, new { number, fallback = fallback ?? string.Empty });
        if (result.IsNull || (RedisValue[]?)result is not [var member, var server])
        {
            return null;
        }

        var key = member.ToString();
        var separator = key.IndexOf(':', StringComparison.Ordinal);
        return new VoiceBridgeHolder(key[..separator], key[(separator + 1)..], server.ToString());
    }

    /// <summary>Takes the create lock of a meeting; returns a token to release it with, or null if another caller holds it.</summary>
    public async Task<string?> TryLockCreateAsync(string member, TimeSpan ttl)
    {
        var token = Guid.NewGuid().ToString("N");
        return await Db.StringSetAsync("sl:lock:create:" + member, token, ttl, When.NotExists) ? token : null;
    }

    public Task ReleaseCreateLockAsync(string member, string token) =>
        Db.ScriptEvaluateAsync(ReleaseLockScript, new { key = (RedisKey)("sl:lock:create:" + member), token });

    /// <summary>
    /// True when the registry can be trusted to know every running meeting: the poller has completed a
    /// full cycle since Redis last lost its data. When false, a miss must be checked against the backends.
    /// </summary>
    public Task<bool> IsAuthoritativeAsync() => Db.KeyExistsAsync(ReadyKey);

    private const string EpochKey = "sl:epoch";

    /// <summary>
    /// Makes misses untrusted again, as a flush does: until the poller completes a cycle, a miss is checked against
    /// the servers. Called when Redis answers again after an outage, during which other replicas may have placed
    /// meetings that only they know of yet; the epoch goes too, so a cycle that began before cannot vouch.
    /// </summary>
    public Task DistrustAsync() => Db.KeyDeleteAsync([ReadyKey, EpochKey]);

    private static readonly LuaScript MarkReadyScript = LuaScript.Prepare("""
        if redis.call('GET', @epochKey) ~= @epoch then return 0 end
        redis.call('SET', @readyKey, @now)
        return 1
        """);

    /// <summary>
    /// Called as a poll cycle begins: the epoch names this Redis's life. A flush removes it, so a cycle that began
    /// before a flush cannot vouch for a registry emptied while it ran (see <see cref="MarkAuthoritativeAsync"/>).
    /// </summary>
    public async Task<string> BeginCycleAsync()
    {
        await Db.StringSetAsync(EpochKey, Guid.NewGuid().ToString("N"), when: When.NotExists);
        return (await Db.StringGetAsync(EpochKey)).ToString();
    }

    /// <summary>Trusts misses again, unless Redis lost its data since <paramref name="epoch"/> was read.</summary>
    public async Task<bool> MarkAuthoritativeAsync(string epoch) =>
        (int)await Db.ScriptEvaluateAsync(MarkReadyScript, new
        {
            epochKey = (RedisKey)EpochKey,
            readyKey = (RedisKey)ReadyKey,
            epoch,
            now = time.GetUtcNow().ToUnixTimeMilliseconds(),
        }) == 1;
}
