using System.Text;
using Npgsql;
using NpgsqlTypes;
using Scalelite.Tests.Infrastructure;
using StackExchange.Redis;

namespace Scalelite.Tests.Support;

/// <summary>A server as Scalelite's Redis holds it. <paramref name="State"/> null makes a row older than the state field.</summary>
internal sealed record ScaleliteServerRow(
    string Id, string Url, string Secret, string? Tag, string? State, string? LoadMultiplier, bool Online, bool LegacyEnabled = false, double Load = 0);

internal sealed record ScaleliteThumbnailRow(int? Width, int? Height, string? Alt, string Url, int Sequence);

internal sealed record ScaleliteFormatRow(string Format, string Url, int? Length, int? ProcessingTime, List<ScaleliteThumbnailRow> Thumbnails);

internal sealed record ScaleliteRecordingRow(
    long Id,
    string RecordId,
    string MeetingId,
    string? Name,
    bool Published,
    int? Participants,
    string? State,
    DateTime? Start,
    DateTime? End,
    DateTime? Deleted,
    bool Protected,
    bool PublishUpdated,
    List<(string Key, string? Value)> Metadata,
    List<ScaleliteFormatRow> Formats);

/// <summary>
/// A Scalelite deployment's data in Scalelite's own layout, for migration tests: the ActiveRecord tables (as Rails'
/// schema creates them) in a database of its own in the test cluster, and the Redis keys under the <c>scalelite:</c>
/// namespace in a logical database of its own.
/// </summary>
internal sealed class ScaleliteDeployment : IAsyncDisposable
{
    public const string Namespace = "scalelite";

    private const string Schema = """
        CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
        CREATE TABLE ar_internal_metadata (key character varying NOT NULL PRIMARY KEY, value character varying,
          created_at timestamp(6) without time zone NOT NULL, updated_at timestamp(6) without time zone NOT NULL);
        CREATE TABLE callback_data (id bigserial PRIMARY KEY, meeting_id character varying, recording_id integer, callback_attributes text,
          created_at timestamp(6) without time zone NOT NULL, updated_at timestamp(6) without time zone NOT NULL);
        CREATE TABLE metadata (id bigserial PRIMARY KEY, recording_id bigint, key character varying, value character varying);
        CREATE UNIQUE INDEX index_metadata_on_recording_id_and_key ON metadata (recording_id, key);
        CREATE TABLE playback_formats (id bigserial PRIMARY KEY, recording_id bigint, format character varying, url character varying,
          length integer, processing_time integer);
        CREATE UNIQUE INDEX index_playback_formats_on_recording_id_and_format ON playback_formats (recording_id, format);
        CREATE TABLE recordings (id bigserial PRIMARY KEY, record_id character varying, meeting_id character varying, name character varying,
          published boolean DEFAULT false NOT NULL, participants integer, state character varying, starttime timestamp without time zone,
          endtime timestamp without time zone, deleted_at timestamp without time zone, protected boolean DEFAULT false NOT NULL,
          publish_updated boolean DEFAULT false NOT NULL);
        CREATE INDEX index_recordings_on_meeting_id ON recordings (meeting_id);
        CREATE UNIQUE INDEX index_recordings_on_record_id ON recordings (record_id);
        CREATE TABLE thumbnails (id bigserial PRIMARY KEY, playback_format_id bigint, width integer, height integer, alt character varying,
          url character varying, sequence integer);
        CREATE INDEX index_thumbnails_on_playback_format_id ON thumbnails (playback_format_id);
        INSERT INTO schema_migrations VALUES ('20181123180008'), ('20210425184558'), ('20210630205630'), ('20210725200414'),
          ('20221111194252'), ('20230627141045');
        INSERT INTO ar_internal_metadata VALUES ('environment', 'production', now(), now());
        """;

    private static readonly string[] Tables = ["recordings", "metadata", "playback_formats", "thumbnails", "callback_data", "schema_migrations", "ar_internal_metadata"];

    private readonly ConnectionMultiplexer _redis;
    private long _nextFormatId = 1;
    private long _nextMetadatumId = 1;
    private long _nextThumbnailId = 1;

    private ScaleliteDeployment(string database, ConnectionMultiplexer redis, string redisEndpoint, int redisDatabase)
    {
        Database = database;
        _redis = redis;
        var db = new NpgsqlConnectionStringBuilder(database);
        DatabaseUrl = $"postgres://{db.Username}@{db.Host}:{db.Port}/{db.Database}";
        RedisUrl = $"redis://{redisEndpoint}/{redisDatabase}";
        RedisDatabase = redisDatabase;
    }

    /// <summary>An Npgsql connection string to Scalelite's database.</summary>
    public string Database { get; }

    /// <summary>Scalelite's <c>DATABASE_URL</c>.</summary>
    public string DatabaseUrl { get; }

    /// <summary>Scalelite's <c>REDIS_URL</c>.</summary>
    public string RedisUrl { get; }

    public int RedisDatabase { get; }

    private IDatabase Redis => _redis.GetDatabase(RedisDatabase);

    private static RedisKey Key(string key) => $"{Namespace}:{key}";

    public static async Task<ScaleliteDeployment> CreateAsync(InfrastructureFixture infrastructure)
    {
        var database = await infrastructure.CreateDatabaseAsync("scalelite_source");
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(Schema, connection);
            await command.ExecuteNonQueryAsync();
        }

        var redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.RedisConnectionString);
        return new ScaleliteDeployment(database, redis, infrastructure.RedisConnectionString, infrastructure.NextRedisDatabase());
    }

    public async Task AddServerAsync(ScaleliteServerRow server)
    {
        var fields = new List<HashEntry> { new("url", server.Url), new("secret", server.Secret), new("online", server.Online ? "true" : "false") };
        if (server.Tag is not null)
        {
            fields.Add(new("tag", server.Tag));
        }

        if (server.LoadMultiplier is not null)
        {
            fields.Add(new("load_multiplier", server.LoadMultiplier));
        }

        if (server.State is not null)
        {
            fields.Add(new("state", server.State));
        }

        await Redis.HashSetAsync(Key("server:" + server.Id), [.. fields]);
        await Redis.SetAddAsync(Key("servers"), server.Id);
        if (server.State == "enabled" || (server.State is null && server.LegacyEnabled))
        {
            await Redis.SetAddAsync(Key("server_enabled"), server.Id);
            await Redis.SortedSetAddAsync(Key("server_load"), server.Id, server.Load);
        }
        else if (server.State == "cordoned")
        {
            await Redis.SortedSetAddAsync(Key("cordoned_server_load"), server.Id, server.Load);
        }
    }

    public async Task UpdateServerAsync(string id, string field, string value) => await Redis.HashSetAsync(Key("server:" + id), field, value);

    public async Task AddMeetingAsync(string meetingId, string serverId, string voiceBridge, string? tenantId = null)
    {
        var fields = new List<HashEntry> { new("server_id", serverId), new("moderator_pw", "mp-" + meetingId), new("voice_bridge", voiceBridge) };
        if (tenantId is not null)
        {
            fields.Add(new("tenant_id", tenantId));
        }

        await Redis.HashSetAsync(Key("meeting:" + meetingId), [.. fields]);
        await Redis.KeyExpireAsync(Key("meeting:" + meetingId), TimeSpan.FromDays(1));
        await Redis.SetAddAsync(Key("meetings"), meetingId);
        await Redis.HashSetAsync(Key("voice_bridges"), voiceBridge, meetingId);
    }

    public async Task AddTenantAsync(string id, string name, string secrets, params (string Id, string Param, string Value, bool Override)[] settings)
    {
        await Redis.HashSetAsync(Key("tenant:" + id), [new("name", name), new("secrets", secrets)]);
        await Redis.SetAddAsync(Key("tenants"), id);
        await Redis.HashSetAsync(Key("tenant_name:" + name), "id", id);
        foreach (var (settingId, param, value, isOverride) in settings)
        {
            await Redis.HashSetAsync(Key("tenant_setting:" + settingId),
                [new("param", param), new("value", value), new("override", isOverride ? "true" : "false"), new("tenant_id", id)]);
            await Redis.SetAddAsync(Key("tenant_settings:" + id), settingId);
        }
    }

    /// <summary>Writes the rows with COPY, as fast as a restore would.</summary>
    public async Task AddRecordingsAsync(IReadOnlyList<ScaleliteRecordingRow> recordings)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY recordings (id, record_id, meeting_id, name, published, participants, state, starttime, endtime, deleted_at, protected, publish_updated) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var r in recordings)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(r.Id, NpgsqlDbType.Bigint);
                await copy.WriteAsync(r.RecordId, NpgsqlDbType.Varchar);
                await copy.WriteAsync(r.MeetingId, NpgsqlDbType.Varchar);
                await WriteNullableAsync(copy, r.Name, NpgsqlDbType.Varchar);
                await copy.WriteAsync(r.Published, NpgsqlDbType.Boolean);
                await WriteNullableAsync(copy, r.Participants, NpgsqlDbType.Integer);
                await WriteNullableAsync(copy, r.State, NpgsqlDbType.Varchar);
                await WriteNullableAsync(copy, Naive(r.Start), NpgsqlDbType.Timestamp);
                await WriteNullableAsync(copy, Naive(r.End), NpgsqlDbType.Timestamp);
                await WriteNullableAsync(copy, Naive(r.Deleted), NpgsqlDbType.Timestamp);
                await copy.WriteAsync(r.Protected, NpgsqlDbType.Boolean);
                await copy.WriteAsync(r.PublishUpdated, NpgsqlDbType.Boolean);
            }

            await copy.CompleteAsync();
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY metadata (id, recording_id, key, value) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var r in recordings)
            {
                foreach (var (key, value) in r.Metadata)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(_nextMetadatumId++, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(r.Id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(key, NpgsqlDbType.Varchar);
                    await WriteNullableAsync(copy, value, NpgsqlDbType.Varchar);
                }
            }

            await copy.CompleteAsync();
        }

        var thumbnails = new List<(long FormatId, ScaleliteThumbnailRow Thumbnail)>();
        await using (var copy = await connection.BeginBinaryImportAsync("COPY playback_formats (id, recording_id, format, url, length, processing_time) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var r in recordings)
            {
                foreach (var f in r.Formats)
                {
                    var id = _nextFormatId++;
                    await copy.StartRowAsync();
                    await copy.WriteAsync(id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(r.Id, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(f.Format, NpgsqlDbType.Varchar);
                    await copy.WriteAsync(f.Url, NpgsqlDbType.Varchar);
                    await WriteNullableAsync(copy, f.Length, NpgsqlDbType.Integer);
                    await WriteNullableAsync(copy, f.ProcessingTime, NpgsqlDbType.Integer);
                    thumbnails.AddRange(f.Thumbnails.Select(t => (id, t)));
                }
            }

            await copy.CompleteAsync();
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY thumbnails (id, playback_format_id, width, height, alt, url, sequence) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (formatId, t) in thumbnails)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(_nextThumbnailId++, NpgsqlDbType.Bigint);
                await copy.WriteAsync(formatId, NpgsqlDbType.Bigint);
                await WriteNullableAsync(copy, t.Width, NpgsqlDbType.Integer);
                await WriteNullableAsync(copy, t.Height, NpgsqlDbType.Integer);
                await WriteNullableAsync(copy, t.Alt, NpgsqlDbType.Varchar);
                await copy.WriteAsync(t.Url, NpgsqlDbType.Varchar);
                await copy.WriteAsync(t.Sequence, NpgsqlDbType.Integer);
            }

            await copy.CompleteAsync();
        }
    }

    /// <summary>A <c>callback_data</c> row; <paramref name="attributes"/> is the YAML Rails writes.</summary>
    public Task AddCallbackAsync(string meetingId, long? recordingId, string attributes) =>
        ExecuteAsync("INSERT INTO callback_data (meeting_id, recording_id, callback_attributes, created_at, updated_at) VALUES (@m, @r, @a, now(), now())",
            ("m", meetingId), ("r", recordingId.HasValue ? (int)recordingId.Value : DBNull.Value), ("a", attributes));

    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Every row of every table and every key of the Redis database (type and content), as text: equal snapshots mean nothing was written.</summary>
    public async Task<string> SnapshotAsync()
    {
        var text = new StringBuilder();
        await using (var connection = new NpgsqlConnection(Database))
        {
            await connection.OpenAsync();
            foreach (var table in Tables)
            {
                await using var command = new NpgsqlCommand($"SELECT t::text FROM {table} t ORDER BY 1", connection);
                await using var reader = await command.ExecuteReaderAsync();
                text.Append("== ").AppendLine(table);
                while (await reader.ReadAsync())
                {
                    text.AppendLine(reader.GetString(0));
                }
            }
        }

        var server = _redis.GetServers()[0];
        foreach (var key in server.Keys(RedisDatabase, pageSize: 1000).Select(k => k.ToString()).Order(StringComparer.Ordinal))
        {
            var type = await Redis.KeyTypeAsync(key);
            text.Append(key).Append(' ').Append(type).Append(": ");
            text.AppendLine(type switch
            {
                RedisType.Hash => string.Join(", ", (await Redis.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal)),
                RedisType.Set => string.Join(", ", (await Redis.SetMembersAsync(key)).Select(v => v.ToString()).Order(StringComparer.Ordinal)),
                RedisType.SortedSet => string.Join(", ", (await Redis.SortedSetRangeByRankWithScoresAsync(key)).Select(e => $"{e.Element}={e.Score}")),
                RedisType.String => (await Redis.StringGetAsync(key)).ToString(),
                _ => "?",
            });
        }

        return text.ToString();
    }

    // Rails keeps UTC in columns without a time zone.
    private static DateTime? Naive(DateTime? time) => time is { } t ? DateTime.SpecifyKind(t, DateTimeKind.Unspecified) : null;

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct =>
        value is { } v ? copy.WriteAsync(v, type) : copy.WriteNullAsync();

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, NpgsqlDbType type) =>
        value is { } v ? copy.WriteAsync(v, type) : copy.WriteNullAsync();

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        using var connection = new NpgsqlConnection(Database);
        NpgsqlConnection.ClearPool(connection);
    }
}
