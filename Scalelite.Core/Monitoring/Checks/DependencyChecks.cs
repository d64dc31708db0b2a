using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;
using StackExchange.Redis;

namespace Scalelite.Core.Monitoring.Checks;

/// <summary>
/// <c>postgres</c> (subject <c>component:postgres</c>): unreachable within the timeout (critical), slow, or its
/// connections near <c>max_connections</c> (warning). Each probe's round trip and failure is also a metric.
/// </summary>
public sealed class PostgresCheck(IDbContextFactory<ScaleliteDbContext> dbFactory, DependencyMetrics metrics, IOptionsMonitor<AlertOptions> options, TimeProvider time) : IAlertCheck
{
    private static readonly string Subject = AlertIds.Component("postgres");

    public IReadOnlyList<string> Alerts { get; } = [AlertIds.Postgres];

    public async ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var timeout = TimeSpan.FromSeconds(o.DependencyTimeout);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var started = time.GetTimestamp();
        int used, limit;
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cts.Token);
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync(cts.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT count(*) FROM pg_stat_activity)::int, current_setting('max_connections')::int";
            command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
            await using var reader = await command.ExecuteReaderAsync(cts.Token);
            await reader.ReadAsync(cts.Token);
            (used, limit) = (reader.GetInt32(0), reader.GetInt32(1));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.PostgresFailed();
            var reason = cts.IsCancellationRequested ? $"no answer within {timeout.TotalSeconds:0.#} s" : OutageLog.Reason(e);
            return [new AlertCondition(AlertIds.Postgres, Subject, AlertSeverity.Critical, time.GetElapsedTime(started).TotalSeconds, timeout.TotalSeconds,
                $"PostgreSQL is unreachable ({reason}): the API serves joins from memory, but no create, recording import or admin change is saved. Check the database server and ConnectionStrings__scalelite.")];
        }

        var roundTrip = time.GetElapsedTime(started);
        metrics.Postgres(roundTrip);
        var found = new List<AlertCondition>();
        if (roundTrip.TotalSeconds > o.PostgresSlow)
        {
            found.Add(new AlertCondition(AlertIds.Postgres, Subject, AlertSeverity.Warning, roundTrip.TotalSeconds, o.PostgresSlow,
                $"PostgreSQL took {roundTrip.TotalMilliseconds:0} ms to answer a trivial query: check its load (pg_stat_activity), locks and disk."));
        }

        if (limit > 0 && used >= o.ConnectionUse * limit)
        {
            found.Add(new AlertCondition(AlertIds.Postgres, Subject, AlertSeverity.Warning, (double)used / limit, o.ConnectionUse,
                $"PostgreSQL has {used} of max_connections={limit} connections in use: raise max_connections or put a pooler in front."));
        }

        return found;
    }
}

/// <summary>
/// <c>redis</c> (subject <c>component:redis</c>): unreachable within the timeout (critical); slow, near maxmemory or
/// maxclients, evicting keys, or failing to persist (warning).
/// </summary>
/// <remarks>Eviction is judged by the growth of <c>evicted_keys</c> between two evaluations: any key evicted loses meeting state.</remarks>
public sealed class RedisCheck(IConnectionMultiplexer redis, DependencyMetrics metrics, IOptionsMonitor<AlertOptions> options, TimeProvider time) : IAlertCheck
{
    private static readonly string Subject = AlertIds.Component("redis");
    private long? _evicted;

    public IReadOnlyList<string> Alerts { get; } = [AlertIds.Redis];

    public async ValueTask<IReadOnlyList<AlertCondition>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var timeout = TimeSpan.FromSeconds(o.DependencyTimeout);
        var started = time.GetTimestamp();
        Dictionary<string, string> info;
        TimeSpan roundTrip;
        try
        {
            await redis.GetDatabase().PingAsync().WaitAsync(timeout, time, cancellationToken);
            roundTrip = time.GetElapsedTime(started);
            // INFO through a script: the client's own INFO is an admin command, and the services' connections are not admin.
            var text = (string?)await redis.GetDatabase().ScriptEvaluateAsync("return redis.call('INFO')").WaitAsync(timeout, time, cancellationToken) ?? string.Empty;
            info = ParseInfo(text);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.RedisFailed();
            var reason = e is TimeoutException ? $"no answer within {timeout.TotalSeconds:0.#} s" : OutageLog.Reason(e);
            return [new AlertCondition(AlertIds.Redis, Subject, AlertSeverity.Critical, time.GetElapsedTime(started).TotalSeconds, timeout.TotalSeconds,
                $"Redis is unreachable ({reason}): the API places and routes from each replica's memory, less evenly and with more calls to the servers. Check the Redis server and ConnectionStrings__redis.")];
        }

        metrics.Redis(roundTrip);
        var found = new List<AlertCondition>();
        if (roundTrip.TotalSeconds > o.RedisSlow)
        {
            found.Add(Warning(roundTrip.TotalSeconds, o.RedisSlow, $"Redis took {roundTrip.TotalMilliseconds:0} ms to answer PING: check its CPU (SLOWLOG GET) and the network."));
        }

        if (Number(info, "maxmemory") is > 0 and var max && Number(info, "used_memory") is { } usedMemory && usedMemory >= o.RedisMemoryUse * max)
        {
            found.Add(Warning(usedMemory / max, o.RedisMemoryUse, $"Redis uses {usedMemory / max:P0} of maxmemory: raise maxmemory before it evicts meeting state."));
        }

        if (Number(info, "maxclients") is > 0 and var maxClients && Number(info, "connected_clients") is { } clients && clients >= o.ConnectionUse * maxClients)
        {
            found.Add(Warning(clients / maxClients, o.ConnectionUse, $"Redis has {clients:0} of maxclients={maxClients:0} connections: raise maxclients."));
        }

        if (Number(info, "evicted_keys") is { } evicted)
        {
            var grew = _evicted is { } before && evicted > before;
            _evicted = (long)evicted;
            if (grew)
            {
                found.Add(Warning(evicted, 0, $"Redis is evicting keys ({evicted:0} so far): meeting ownership is being lost. Set maxmemory-policy noeviction and give it more memory."));
            }
        }

        if (info.GetValueOrDefault("rdb_last_bgsave_status") == "err" || info.GetValueOrDefault("aof_last_write_status") == "err")
        {
            found.Add(Warning(1, 0, "Redis fails to persist (rdb_last_bgsave_status or aof_last_write_status is err): check its disk and log."));
        }

        return found;
    }

    /// <summary>INFO's <c>key:value</c> lines; sections and comments are skipped.</summary>
    private static Dictionary<string, string> ParseInfo(string text)
    {
        var info = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[0] != '#')
            {
                info.TryAdd(line[..colon], line[(colon + 1)..]);
            }
        }

        return info;
    }

    private static AlertCondition Warning(double value, double threshold, string message) =>
        new(AlertIds.Redis, Subject, AlertSeverity.Warning, value, threshold, message);

    private static double? Number(Dictionary<string, string> info, string key) =>
        info.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}
