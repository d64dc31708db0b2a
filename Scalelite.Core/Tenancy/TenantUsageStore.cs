using System.Globalization;
using StackExchange.Redis;

namespace Scalelite.Core.Tenancy;

/// <summary>Each tenant's meetings and participants as the poller last counted them (Redis hash <c>sl:tenant-usage</c>).</summary>
public sealed class TenantUsageStore(IConnectionMultiplexer redis)
{
    private static readonly RedisKey Key = "sl:tenant-usage";

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Replaces the counts as a whole: a tenant the poller saw nothing of counts 0.</summary>
    public async Task WriteAsync(IReadOnlyDictionary<string, TenantUsage> usage)
    {
        var tx = Db.CreateTransaction();
        _ = tx.KeyDeleteAsync(Key);
        if (usage.Count > 0)
        {
            _ = tx.HashSetAsync(Key, [.. usage.Select(u => new HashEntry(u.Key, string.Create(CultureInfo.InvariantCulture, $"{u.Value.Meetings} {u.Value.Participants}")))]);
        }

        await tx.ExecuteAsync();
    }

    public async Task<Dictionary<string, TenantUsage>> ReadAsync()
    {
        var result = new Dictionary<string, TenantUsage>(StringComparer.Ordinal);
        foreach (var entry in await Db.HashGetAllAsync(Key))
        {
            var parts = entry.Value.ToString().Split(' ');
            if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var meetings) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var participants))
            {
                result[entry.Name.ToString()] = new TenantUsage(meetings, participants);
            }
        }

        return result;
    }
}
