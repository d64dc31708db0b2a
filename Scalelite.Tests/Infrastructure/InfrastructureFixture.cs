using Scalelite.LocalServers;

namespace Scalelite.Tests.Infrastructure;

/// <summary>
/// Real PostgreSQL and Redis for integration tests (never in-memory substitutes). Use it as a class fixture
/// (<c>IClassFixture&lt;InfrastructureFixture&gt;</c>, classes run in parallel) or through the "infrastructure"
/// collection. Either way all tests of the run share one cluster and one Redis (see <see cref="TestInfrastructure"/>);
/// isolate with <see cref="CreateDatabaseAsync"/>, <see cref="NextRedisDatabase"/> or <see cref="StartDedicatedRedisAsync"/>.
/// </summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    private PostgresServer? _postgres;
    private RedisServer? _redis;

    public PostgresServer Postgres => _postgres ?? throw new InvalidOperationException("The fixture is not initialized.");

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The shared Redis, <c>127.0.0.1:PORT</c>.</summary>
    public string RedisConnectionString => Redis.ConnectionString;

    /// <summary>
    /// A connection string to a new database with a unique name, so each test class gets its own schema and data.
    /// </summary>
    public Task<string> CreateDatabaseAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        TestInfrastructure.CreateDatabaseAsync(prefix, cancellationToken);

    /// <summary>A logical database index of the shared Redis that no other test of the run uses.</summary>
    /// <remarks>Enough for key-level isolation, not for FLUSHALL or restarts: use <see cref="StartDedicatedRedisAsync"/>.</remarks>
    public int NextRedisDatabase() => TestInfrastructure.NextRedisDatabase();

    /// <summary>The shared Redis's connection string selecting a fresh logical database (<c>127.0.0.1:PORT,defaultDatabase=N</c>).</summary>
    public string CreateRedisConnectionString() => $"{RedisConnectionString},defaultDatabase={NextRedisDatabase()}";

    /// <summary>A Redis of the test's own, for tests that flush, restart or stop it. Dispose it at the end of the test.</summary>
    public Task<RedisServer> StartDedicatedRedisAsync(CancellationToken cancellationToken = default) =>
        TestInfrastructure.StartDedicatedRedisAsync(cancellationToken);

    /// <summary>A PostgreSQL cluster of the test's own, for tests that stop or restart it. Dispose it at the end of the test.</summary>
    public Task<PostgresServer> StartDedicatedPostgresAsync(CancellationToken cancellationToken = default) =>
        TestInfrastructure.StartDedicatedPostgresAsync(cancellationToken);

    public async Task InitializeAsync() => (_postgres, _redis) = await TestInfrastructure.GetSharedAsync();

    // The shared servers outlive a single class; TestInfrastructure stops them when the test process exits.
    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class InfrastructureCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "infrastructure";
}
