namespace Scalelite.Core.Persistence;

/// <summary>
/// The names under which Aspire's client integrations register the stores' health checks, for code that adjusts one
/// (the API, for instance, reports a PostgreSQL outage as Degraded rather than unready).
/// </summary>
public static class HealthCheckNames
{
    /// <summary>PostgreSQL through EF Core: the integration names its check after the context type.</summary>
    public const string Postgres = nameof(ScaleliteDbContext);

    /// <summary>
    /// Redis through StackExchange.Redis. The check registered under this name is <see cref="State.RedisBreaker"/>'s, in
    /// place of the integration's: it answers at once while Redis is known to be down.
    /// </summary>
    public const string Redis = "StackExchange.Redis";
}
