using System.Data;
using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using Scalelite.Core.Configuration;
using StackExchange.Redis;
using YamlDotNet.RepresentationModel;

namespace Scalelite.Core.FromScalelite;

/// <summary>
/// A running Scalelite's data, read and never written: its PostgreSQL (recordings, callback data) and its Redis
/// (servers, tenants, running meetings), in the layout Scalelite's ActiveRecord and Redis models use.
/// </summary>
/// <remarks>
/// Read-only on both sides, by construction rather than by care: the PostgreSQL session is opened with
/// <c>default_transaction_read_only=on</c> (checked after connecting) and every read runs in one
/// <c>REPEATABLE READ READ ONLY</c> transaction, so the recordings, their details and the callback rows come from one
/// snapshot; the Redis connection's command map leaves out every command that writes. Versions differ in their
/// columns (<c>protected</c> and <c>publish_updated</c> came later, <c>callback_data</c> too, a <c>tenants</c>
/// table existed for a while), so the columns present are looked up first and missing ones read as their defaults.
/// </remarks>
public sealed class ScaleliteSource : IAsyncDisposable
{
    /// <summary>Scalelite's default <c>REDIS_NAMESPACE</c>.</summary>
    public const string DefaultNamespace = "scalelite";

    // Everything that writes, so that no code path can change Scalelite's Redis.
    private static readonly HashSet<string> WriteCommands =
    [
        "APPEND", "BITFIELD", "BITOP", "BLMOVE", "BLPOP", "BRPOP", "BRPOPLPUSH", "BZPOPMAX", "BZPOPMIN", "COPY", "DECR", "DECRBY",
        "DEL", "EVAL", "EVALSHA", "EXPIRE", "EXPIREAT", "FLUSHALL", "FLUSHDB", "GEOADD", "GETDEL", "GETEX", "GETSET", "HDEL",
        "HINCRBY", "HINCRBYFLOAT", "HMSET", "HSET", "HSETNX", "INCR", "INCRBY", "INCRBYFLOAT", "LINSERT", "LMOVE", "LPOP",
        "LPUSH", "LPUSHX", "LREM", "LSET", "LTRIM", "MIGRATE", "MOVE", "MSET", "MSETNX", "PERSIST", "PEXPIRE", "PEXPIREAT",
        "PFADD", "PFMERGE", "PSETEX", "PUBLISH", "RENAME", "RENAMENX", "RESTORE", "RPOP", "RPOPLPUSH", "RPUSH", "RPUSHX",
        "SADD", "SCRIPT", "SDIFFSTORE", "SET", "SETBIT", "SETEX", "SETNX", "SETRANGE", "SINTERSTORE", "SMOVE", "SORT", "SPOP",
        "SREM", "SUNIONSTORE", "SWAPDB", "UNLINK", "XADD", "XDEL", "XTRIM", "ZADD", "ZDIFFSTORE", "ZINCRBY", "ZINTERSTORE",
        "ZPOPMAX", "ZPOPMIN", "ZRANGESTORE", "ZREM", "ZREMRANGEBYLEX", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZUNIONSTORE",
    ];

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _snapshot;
    private readonly ConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly HashSet<(string Table, string Column)> _columns;

    private ScaleliteSource(NpgsqlConnection connection, NpgsqlTransaction snapshot, ConnectionMultiplexer redis, string redisNamespace, HashSet<(string, string)> columns)
    {
        _connection = connection;
        _snapshot = snapshot;
        _redis = redis;
        _prefix = string.IsNullOrEmpty(redisNamespace) ? string.Empty : redisNamespace + ":";
        _columns = columns;
        Description = $"PostgreSQL {connection.Host}:{connection.Port}/{connection.Database}, Redis {string.Join(',', redis.GetEndPoints().Select(e => e.ToString()))} " +
            $"(database {redis.GetDatabase().Database}, namespace '{redisNamespace}')";
    }

    /// <summary>Where the data comes from, for the report (no credentials).</summary>
    public string Description { get; }

    /// <summary>The database's host, port and name, to refuse a target that is the source itself.</summary>
    public (string? Host, int Port, string? Database) DatabaseIdentity => (_connection.Host, _connection.Port, _connection.Database);

    /// <param name="databaseUrl">Scalelite's <c>DATABASE_URL</c> (a postgres:// URL or an Npgsql connection string).</param>
    /// <param name="redisUrl">Scalelite's <c>REDIS_URL</c> (a redis:// URL or a StackExchange.Redis configuration).</param>
    /// <param name="redisNamespace">Scalelite's <c>REDIS_NAMESPACE</c>: every key is prefixed with it and a colon.</param>
    public static async Task<ScaleliteSource> OpenAsync(string databaseUrl, string redisUrl, string redisNamespace, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(ReadOnlyConnectionString(databaseUrl));
        ConnectionMultiplexer? redis = null;
        try
        {
            await connection.OpenAsync(ct);
            await using (var check = new NpgsqlCommand("SHOW default_transaction_read_only", connection))
            {
                if (await check.ExecuteScalarAsync(ct) is not "on")
                {
                    throw new InvalidOperationException("Scalelite's PostgreSQL did not accept a read-only session; nothing was read.");
                }
            }

            var snapshot = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var columns = new HashSet<(string, string)>();
            await using (var command = new NpgsqlCommand(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()", connection, snapshot))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    columns.Add((reader.GetString(0), reader.GetString(1)));
                }
            }

            if (!columns.Contains(("recordings", "record_id")))
            {
                throw new InvalidOperationException($"Database '{connection.Database}' has no Scalelite recordings table: is it Scalelite's DATABASE_URL?");
            }

            redis = await ConnectionMultiplexer.ConnectAsync(ReadOnlyRedisOptions(redisUrl));
            return new ScaleliteSource(connection, snapshot, redis, redisNamespace, columns);
        }
        catch
        {
            if (redis is not null)
            {
                await redis.DisposeAsync();
            }

            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A session in which PostgreSQL itself refuses every write.</summary>
    internal static string ReadOnlyConnectionString(string databaseUrl)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStrings.FromPostgresUrl(databaseUrl))
        {
            ApplicationName = "scalelite migrate (read-only)",
            Pooling = false,
        };
        builder.Options = (builder.Options is { Length: > 0 } given ? given + " " : string.Empty) + "-c default_transaction_read_only=on";
        return builder.ConnectionString;
    }

    /// <summary>A connection that cannot send a command that writes (nor publish, nor run a script).</summary>
    internal static ConfigurationOptions ReadOnlyRedisOptions(string redisUrl)
    {
        var options = ConfigurationOptions.Parse(ConnectionStrings.FromRedisUrl(redisUrl));
        options.CommandMap = CommandMap.Create(WriteCommands, available: false);
        options.ConfigurationChannel = string.Empty;
        options.TieBreaker = string.Empty;
        options.AbortOnConnectFail = true;
        options.ClientName = "scalelite-migrate-read-only";
        return options;
    }

    private IDatabase Redis => _redis.GetDatabase();

    private RedisKey Key(string key) => _prefix + key;

    private bool HasColumn(string table, string column) => _columns.Contains((table, column));

    private bool HasTable(string table) => _columns.Any(c => c.Table == table);

    /// <summary>Every server of <c>servers</c>, with its state as Scalelite derives it.</summary>
    public async Task<IReadOnlyList<SourceServer>> ReadServersAsync()
    {
        var ids = (await Redis.SetMembersAsync(Key("servers"))).Select(v => v.ToString()).Order(StringComparer.Ordinal).ToList();
        var batch = Redis.CreateBatch();
        var reads = ids.Select(id => (
            Hash: batch.HashGetAllAsync(Key("server:" + id)),
            Enabled: batch.SetContainsAsync(Key("server_enabled"), id),
            Load: batch.SortedSetScoreAsync(Key("server_load"), id),
            Cordoned: batch.SortedSetScoreAsync(Key("cordoned_server_load"), id))).ToList();
        batch.Execute();

        var servers = new List<SourceServer>();
        for (var i = 0; i < ids.Count; i++)
        {
            var hash = ToMap(await reads[i].Hash);
            if (hash.Count == 0)
            {
                // Scalelite skips an id whose hash is gone.
                continue;
            }

            string state;
            double? load;
            if (hash.GetValueOrDefault("state") is { Length: > 0 } stored)
            {
                state = stored;
                load = stored switch
                {
                    "enabled" => await reads[i].Load,
                    "cordoned" => await reads[i].Cordoned,
                    _ => null,
                };
            }
            else
            {
                // Rows older than the state field: the server_enabled set says whether it is enabled.
                var enabled = await reads[i].Enabled || hash.GetValueOrDefault("enabled") == "true";
                state = enabled ? "enabled" : "disabled";
                load = enabled ? await reads[i].Load : null;
            }

            servers.Add(new SourceServer(
                ids[i],
                hash.GetValueOrDefault("url"),
                hash.GetValueOrDefault("secret"),
                hash.GetValueOrDefault("tag"),
                state,
                hash.GetValueOrDefault("load_multiplier"),
                hash.GetValueOrDefault("online") == "true",
                load,
                hash.GetValueOrDefault("bbb_version"),
                Int(hash.GetValueOrDefault("meetings")),
                Int(hash.GetValueOrDefault("users")),
                Int(hash.GetValueOrDefault("largest_meeting")),
                Int(hash.GetValueOrDefault("videos"))));
        }

        return servers;
    }

    /// <summary>Every tenant with its settings: from Redis, and from the <c>tenants</c> table of the versions that had one.</summary>
    public async Task<IReadOnlyList<SourceTenant>> ReadTenantsAsync(CancellationToken ct)
    {
        var tenants = new List<SourceTenant>();
        foreach (var id in (await Redis.SetMembersAsync(Key("tenants"))).Select(v => v.ToString()).Order(StringComparer.Ordinal))
        {
            var hash = ToMap(await Redis.HashGetAllAsync(Key("tenant:" + id)));
            if (hash.Count == 0)
            {
                continue;
            }

            var settings = new List<SourceTenantSetting>();
            foreach (var settingId in (await Redis.SetMembersAsync(Key("tenant_settings:" + id))).Select(v => v.ToString()).Order(StringComparer.Ordinal))
            {
                var setting = ToMap(await Redis.HashGetAllAsync(Key("tenant_setting:" + settingId)));
                if (setting.GetValueOrDefault("param") is { Length: > 0 } param)
                {
                    settings.Add(new SourceTenantSetting(settingId, param, setting.GetValueOrDefault("value") ?? string.Empty, setting.GetValueOrDefault("override") == "true"));
                }
            }

            var fields = hash.Where(f => f.Key is not ("name" or "secrets")).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            tenants.Add(new SourceTenant(id, hash.GetValueOrDefault("name") ?? string.Empty, SplitSecrets(hash.GetValueOrDefault("secrets")), fields, settings));
        }

        if (HasColumn("tenants", "name"))
        {
            var names = tenants.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var sql = $"SELECT id::text, name, {(HasColumn("tenants", "secrets") ? "secrets" : "NULL")} FROM tenants ORDER BY id";
            await using var command = new NpgsqlCommand(sql, _connection, _snapshot);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var name = reader.IsDBNull(1) ? string.Empty : reader.GetString(1);
                if (names.Add(name))
                {
                    tenants.Add(new SourceTenant(reader.GetString(0), name, SplitSecrets(reader.IsDBNull(2) ? null : reader.GetString(2)), new Dictionary<string, string>(), []));
                }
            }
        }

        return tenants;
    }

    /// <summary>Every running meeting of <c>meetings</c> that still has its hash (the hash expires with <c>DEFAULT_MEETING_TTL</c>).</summary>
    public async Task<IReadOnlyList<SourceMeeting>> ReadMeetingsAsync()
    {
        var ids = (await Redis.SetMembersAsync(Key("meetings"))).Select(v => v.ToString()).Order(StringComparer.Ordinal).ToList();
        var numbers = await Redis.HashGetAllAsync(Key("voice_bridges"));
        var bridgeOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in numbers)
        {
            bridgeOf.TryAdd(entry.Value.ToString(), entry.Name.ToString());
        }

        var batch = Redis.CreateBatch();
        var reads = ids.Select(id => batch.HashGetAllAsync(Key("meeting:" + id))).ToList();
        batch.Execute();
        var meetings = new List<SourceMeeting>();
        for (var i = 0; i < ids.Count; i++)
        {
            var hash = ToMap(await reads[i]);
            if (hash.GetValueOrDefault("server_id") is not { Length: > 0 } serverId)
            {
                continue;
            }

            meetings.Add(new SourceMeeting(
                ids[i],
                serverId,
                hash.GetValueOrDefault("moderator_pw"),
                hash.GetValueOrDefault("voice_bridge") is { Length: > 0 } vb ? vb : bridgeOf.GetValueOrDefault(ids[i]),
                hash.GetValueOrDefault("tenant_id") is { Length: > 0 } tenant ? tenant : null));
        }

        return meetings;
    }

    public async Task<long> CountRecordingsAsync(CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM recordings", _connection, _snapshot);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The recordings with their metadata, formats and thumbnails, <paramref name="batchSize"/> at a time in id order.</summary>
    public async IAsyncEnumerable<IReadOnlyList<SourceRecording>> ReadRecordingsAsync(int batchSize, [EnumeratorCancellation] CancellationToken ct)
    {
        var protectedColumn = HasColumn("recordings", "protected") ? "coalesce(protected, false)" : "false";
        var publishUpdated = HasColumn("recordings", "publish_updated") ? "coalesce(publish_updated, false)" : "false";
        var sql = "SELECT id, record_id, meeting_id, name, coalesce(published, false), participants, state, starttime, endtime, deleted_at, " +
            $"{protectedColumn}, {publishUpdated} FROM recordings WHERE id > $1 ORDER BY id LIMIT $2";
        var last = long.MinValue;
        while (true)
        {
            var rows = new List<(long Id, string? RecordId, string? MeetingId, string? Name, bool Published, int? Participants, string? State,
                DateTime? Start, DateTime? End, DateTime? Deleted, bool Protected, bool PublishUpdated)>();
            await using (var command = new NpgsqlCommand(sql, _connection, _snapshot))
            {
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = last });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add((reader.GetInt64(0), Text(reader, 1), Text(reader, 2), Text(reader, 3), reader.GetBoolean(4),
                        reader.IsDBNull(5) ? null : reader.GetInt32(5), Text(reader, 6), Time(reader, 7), Time(reader, 8), Time(reader, 9),
                        reader.GetBoolean(10), reader.GetBoolean(11)));
                }
            }

            if (rows.Count == 0)
            {
                yield break;
            }

            last = rows[^1].Id;
            var ids = rows.Select(r => r.Id).ToArray();
            var metadata = await ReadMetadataAsync(ids, ct);
            var formats = await ReadFormatsAsync(ids, ct);
            yield return [.. rows.Select(r => new SourceRecording(
                r.Id, r.RecordId, r.MeetingId, r.Name, r.Published, r.Participants, r.State, r.Start, r.End, r.Deleted, r.Protected, r.PublishUpdated,
                metadata.GetValueOrDefault(r.Id) ?? [], formats.GetValueOrDefault(r.Id) ?? []))];
        }
    }

    private async Task<Dictionary<long, List<SourceMetadatum>>> ReadMetadataAsync(long[] ids, CancellationToken ct)
    {
        var result = new Dictionary<long, List<SourceMetadatum>>();
        if (!HasTable("metadata"))
        {
            return result;
        }

        await using var command = new NpgsqlCommand("SELECT recording_id, key, value FROM metadata WHERE recording_id = ANY($1) ORDER BY recording_id, id", _connection, _snapshot);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            Bucket(result, reader.GetInt64(0)).Add(new SourceMetadatum(Text(reader, 1), Text(reader, 2)));
        }

        return result;
    }

    private async Task<Dictionary<long, List<SourcePlaybackFormat>>> ReadFormatsAsync(long[] ids, CancellationToken ct)
    {
        var result = new Dictionary<long, List<SourcePlaybackFormat>>();
        if (!HasTable("playback_formats"))
        {
            return result;
        }

        var formats = new List<(long RecordingId, long Id, string? Format, string? Url, int? Length, int? ProcessingTime)>();
        await using (var command = new NpgsqlCommand(
            "SELECT recording_id, id, format, url, length, processing_time FROM playback_formats WHERE recording_id = ANY($1) ORDER BY recording_id, id", _connection, _snapshot))
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                formats.Add((reader.GetInt64(0), reader.GetInt64(1), Text(reader, 2), Text(reader, 3),
                    reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetInt32(5)));
            }
        }

        var thumbnails = new Dictionary<long, List<SourceThumbnail>>();
        if (formats.Count > 0 && HasTable("thumbnails"))
        {
            await using var command = new NpgsqlCommand(
                "SELECT playback_format_id, width, height, alt, url, sequence FROM thumbnails WHERE playback_format_id = ANY($1) ORDER BY playback_format_id, sequence, id",
                _connection, _snapshot);
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. formats.Select(f => f.Id)] });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                Bucket(thumbnails, reader.GetInt64(0)).Add(new SourceThumbnail(
                    reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt32(2),
                    Text(reader, 3), Text(reader, 4), reader.IsDBNull(5) ? null : reader.GetInt32(5)));
            }
        }

        foreach (var f in formats)
        {
            Bucket(result, f.RecordingId).Add(new SourcePlaybackFormat(f.Id, f.Format, f.Url, f.Length, f.ProcessingTime, thumbnails.GetValueOrDefault(f.Id) ?? []));
        }

        return result;
    }

    /// <summary>Every row of <c>callback_data</c> (none when the version has no such table).</summary>
    public async Task<IReadOnlyList<SourceCallback>> ReadCallbacksAsync(CancellationToken ct)
    {
        var callbacks = new List<SourceCallback>();
        if (!HasColumn("callback_data", "callback_attributes"))
        {
            return callbacks;
        }

        var created = HasColumn("callback_data", "created_at") ? "created_at" : "NULL::timestamp";
        await using var command = new NpgsqlCommand(
            $"SELECT id, meeting_id, recording_id, callback_attributes, {created} FROM callback_data ORDER BY id", _connection, _snapshot);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var attributes = ParseAttributes(Text(reader, 3));
            callbacks.Add(new SourceCallback(
                reader.GetInt64(0), Text(reader, 1), reader.IsDBNull(2) ? null : Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                attributes.GetValueOrDefault("recording_ready_url"), attributes.GetValueOrDefault("analytics_callback_url"), Time(reader, 4)));
        }

        return callbacks;
    }

    /// <summary>
    /// <c>callback_attributes</c> is a Ruby hash serialized as YAML (<c>:recording_ready_url: https://...</c>, symbol
    /// keys; older rows may use string keys or a tagged indifferent-access hash). Unreadable text yields no URLs.
    /// </summary>
    internal static Dictionary<string, string> ParseAttributes(string? yaml)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(yaml))
        {
            return result;
        }

        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode map)
            {
                foreach (var (key, value) in map.Children)
                {
                    if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { Length: > 0 } url })
                    {
                        result[name.TrimStart(':')] = url;
                    }
                }
            }
        }
        catch (YamlDotNet.Core.YamlException)
        {
        }

        return result;
    }

    private static List<T> Bucket<T>(Dictionary<long, List<T>> map, long key)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        return list;
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    // Rails stores UTC in timestamp columns without a zone.
    private static DateTime? Time(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    private static int Int(string? value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static List<string> SplitSecrets(string? secrets) =>
        [.. (secrets ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)];

    private static Dictionary<string, string> ToMap(HashEntry[] entries) =>
        entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        await _snapshot.DisposeAsync();
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }
}
