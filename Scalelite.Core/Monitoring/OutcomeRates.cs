using System.Globalization;
using StackExchange.Redis;

namespace Scalelite.Core.Monitoring;

/// <summary>
/// Counts of bad outcomes (FAILED answers caused by the pool, checksum errors, failed joins) from every API replica,
/// in 5-second buckets in Redis, so that the evaluator can compute the pool-wide rate over a window.
/// </summary>
/// <remarks>
/// Each replica adds up its counts in memory and adds them here every few seconds (never a Redis call per request);
/// one hash per outcome holds a field per bucket. The evaluator sums the buckets inside the window and deletes the
/// older ones; a hash nobody writes to expires on its own.
/// </remarks>
public sealed class OutcomeRates(IConnectionMultiplexer redis, TimeProvider time)
{
    public const string ApiErrors = "api-errors";
    public const string ChecksumErrors = "checksum-errors";
    public const string JoinFailures = "join-failures";

    private const int BucketSeconds = 5;
    private static readonly TimeSpan KeyLifetime = TimeSpan.FromDays(1);

    private static RedisKey Key(string outcome) => "sl:mon:rate:" + outcome;

    /// <summary>Adds a replica's counts since its last flush.</summary>
    public async Task AddAsync(IReadOnlyDictionary<string, long> counts)
    {
        var bucket = (time.GetUtcNow().ToUnixTimeSeconds() / BucketSeconds).ToString(CultureInfo.InvariantCulture);
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var work = new List<Task>();
        foreach (var (outcome, count) in counts.Where(c => c.Value > 0))
        {
            work.Add(batch.HashIncrementAsync(Key(outcome), bucket, count));
            work.Add(batch.KeyExpireAsync(Key(outcome), KeyLifetime));
        }

        batch.Execute();
        await Task.WhenAll(work);
    }

    /// <summary>Each outcome's count per minute over the last <paramref name="window"/>, pool-wide.</summary>
    public async Task<IReadOnlyDictionary<string, double>> PerMinuteAsync(IReadOnlyList<string> outcomes, TimeSpan window)
    {
        var db = redis.GetDatabase();
        var oldest = (time.GetUtcNow() - window).ToUnixTimeSeconds() / BucketSeconds;
        var reads = outcomes.Select(o => db.HashGetAllAsync(Key(o))).ToList();
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < outcomes.Count; i++)
        {
            long sum = 0;
            var expired = new List<RedisValue>();
            foreach (var entry in await reads[i])
            {
                if (long.TryParse(entry.Name.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var bucket) && bucket >= oldest)
                {
                    sum += (long)entry.Value;
                }
                else
                {
                    expired.Add(entry.Name);
                }
            }

            if (expired.Count > 0)
            {
                _ = db.HashDeleteAsync(Key(outcomes[i]), [.. expired], CommandFlags.FireAndForget);
            }

            rates[outcomes[i]] = sum / window.TotalMinutes;
        }

        return rates;
    }
}
