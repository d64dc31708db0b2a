using System.Globalization;
using Scalelite.Core.Persistence;
using StackExchange.Redis;

namespace Scalelite.Core.Pool.Health;

/// <summary>A health verdict of the poller: whether the server is online, its load, and the poll it came from.</summary>
public sealed record HealthVerdict(bool Online, double? Load, DateTimeOffset PolledAt);

/// <summary>
/// The poller's verdicts that PostgreSQL has not taken yet, published in Redis (<c>sl:verdicts</c>, server id →
/// verdict) so that every API replica acts on them while PostgreSQL is down.
/// </summary>
/// <remarks>
/// The API's server snapshot is PostgreSQL's record, and while PostgreSQL is down the API cannot reload it: a server
/// that dies then would stay "online" to the API. So when a poll cycle cannot save, the poller publishes every
/// server's verdict here, and <see cref="ServerDirectory"/> lays a verdict over the record it holds when the verdict
/// comes from a later poll than the record (an operator's probe, saved in PostgreSQL, is newer and wins). Once a
/// cycle saves again the poller withdraws them all, and the snapshot is PostgreSQL's alone. The hash is small (one
/// field per server) and absent in normal operation, so the API's read each second costs nothing then.
/// </remarks>
public sealed class UnsavedVerdicts(IConnectionMultiplexer redis)
{
    internal const string Key = "sl:verdicts";

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Replaces the published verdicts with those of <paramref name="servers"/>, in one step.</summary>
    public Task PublishAsync(IReadOnlyCollection<Server> servers)
    {
        var tx = Db.CreateTransaction();
        _ = tx.KeyDeleteAsync(Key);
        if (servers.Count > 0)
        {
            _ = tx.HashSetAsync(Key, [.. servers.Select(s => new HashEntry(s.Id, Serialize(Of(s))))]);
        }

        return tx.ExecuteAsync();
    }

    /// <summary>PostgreSQL has the record again: the snapshot is its alone.</summary>
    public Task WithdrawAsync() => Db.KeyDeleteAsync(Key);

    public async Task<IReadOnlyDictionary<string, HealthVerdict>> ReadAsync()
    {
        var entries = await Db.HashGetAllAsync(Key);
        var verdicts = new Dictionary<string, HealthVerdict>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (Parse(entry.Value.ToString()) is { } verdict)
            {
                verdicts[entry.Name.ToString()] = verdict;
            }
        }

        return verdicts;
    }

    /// <summary>The server as the snapshot shows it: its record, or the verdict when that comes from a later poll.</summary>
    public static ServerSnapshot Apply(Server server, HealthVerdict? verdict) =>
        verdict is not null && verdict.PolledAt > (server.LastPolledAt ?? DateTimeOffset.MinValue)
            ? ServerSnapshot.From(server) with { Online = verdict.Online, Load = verdict.Online ? verdict.Load : null }
            : ServerSnapshot.From(server);

    private static HealthVerdict Of(Server s) => new(s.Online, s.Load, s.LastPolledAt ?? DateTimeOffset.MinValue);

    // "1|12.5|1767225600000": online, load (empty when unknown), the poll's time in Unix milliseconds.
    internal static string Serialize(HealthVerdict v) => string.Create(CultureInfo.InvariantCulture,
        $"{(v.Online ? 1 : 0)}|{(v.Load is { } load ? load.ToString("R", CultureInfo.InvariantCulture) : string.Empty)}|{v.PolledAt.ToUnixTimeMilliseconds()}");

    internal static HealthVerdict? Parse(string value)
    {
        var parts = value.Split('|');
        if (parts.Length != 3 || parts[0] is not ("0" or "1") || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var ms))
        {
            return null;
        }

        double? load = double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var l) ? l : null;
        return new HealthVerdict(parts[0] == "1", load, DateTimeOffset.FromUnixTimeMilliseconds(ms));
    }
}
