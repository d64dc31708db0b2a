using Scalelite.LocalServers;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.Support;

/// <summary>A PostgreSQL cluster of the test's own, with one database, that the test stops and starts again.</summary>
public sealed class PostgresOutage : IAsyncDisposable
{
    private PostgresOutage(PostgresServer server, string connectionString)
    {
        Server = server;
        ConnectionString = connectionString;
    }

    public PostgresServer Server { get; }

    /// <summary>The database's connection string; it stays valid across a stop and a start.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresOutage> StartAsync(InfrastructureFixture infrastructure)
    {
        var server = await infrastructure.StartDedicatedPostgresAsync();
        return new PostgresOutage(server, await server.CreateDatabaseAsync("scalelite"));
    }

    /// <summary>Stops the cluster (fast shutdown): every connection is cut and new ones are refused.</summary>
    public Task StopAsync() => Server.StopAsync();

    /// <summary>Starts the cluster again, on the same data and port.</summary>
    public Task StartAsync() => Server.StartAsync(Server.DataDirectory, Server.Port);

    public async Task<string> ScalarAsync(string sql) => await Server.ExecuteScalarAsync("scalelite", sql);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
