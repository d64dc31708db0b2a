using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Scalelite.Core.Tenancy;

/// <summary>
/// Tells every API replica that the tenants changed, and waits until each has reloaded them, so that a removed
/// secret is refused everywhere by the time the change is answered.
/// </summary>
/// <remarks>
/// A change increments a generation counter and publishes it on a channel named after the Redis database (Redis
/// channels are shared by all databases of a server). PUBLISH answers how many subscribers received the message;
/// each replica reloads and then increments that generation's acknowledgement counter, and the publisher waits, at
/// most <see cref="AckWait"/>, until every receiver has acknowledged. A replica that cannot reload (its database is
/// down) keeps serving its last snapshot and is left behind by the wait; its periodic reload
/// (<see cref="TenancyOptions.ReloadInterval"/>) catches up.
/// </remarks>
public sealed partial class TenantChanges(IConnectionMultiplexer redis, TimeProvider time, ILogger<TenantChanges> logger)
{
    public static readonly TimeSpan AckWait = TimeSpan.FromSeconds(2);
    private const string GenerationKey = "sl:tenants:gen";

    private IDatabase Db => redis.GetDatabase();

    public RedisChannel Channel => RedisChannel.Literal("sl:tenants-changed:" + Db.Database.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static RedisKey AckKey(long generation) => "sl:tenants:ack:" + generation.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Announces a change and waits until every listening replica has reloaded (or <see cref="AckWait"/> passed).</summary>
    public async Task PublishAsync(CancellationToken ct = default)
    {
        try
        {
            var generation = await Db.StringIncrementAsync(GenerationKey);
            var receivers = await Db.PublishAsync(Channel, generation);
            var deadline = time.GetUtcNow() + AckWait;
            while (receivers > 0)
            {
                var acknowledged = (long?)await Db.StringGetAsync(AckKey(generation)) ?? 0;
                if (acknowledged >= receivers)
                {
                    return;
                }

                if (time.GetUtcNow() > deadline)
                {
                    Log.NotAcknowledged(logger, receivers - acknowledged, receivers);
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(5), time, ct);
            }
        }
        catch (RedisException e)
        {
            // The change is in PostgreSQL; replicas pick it up with their next periodic reload.
            Log.PublishFailed(logger, e.Message);
        }
    }

    /// <summary>Called by a replica once it has reloaded after <paramref name="generation"/> was announced.</summary>
    public async Task AcknowledgeAsync(long generation)
    {
        var tx = Db.CreateTransaction();
        _ = tx.StringIncrementAsync(AckKey(generation));
        _ = tx.KeyExpireAsync(AckKey(generation), TimeSpan.FromMinutes(1));
        await tx.ExecuteAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "A tenant change was not confirmed by {Missing} of {Receivers} replicas in time; they reload within their reload interval")]
        public static partial void NotAcknowledged(ILogger logger, long missing, long receivers);

        [LoggerMessage(LogLevel.Warning, "Could not announce a tenant change ({Error}); replicas reload within their reload interval")]
        public static partial void PublishFailed(ILogger logger, string error);
    }
}
