using Scalelite.LocalServers;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.Support;

/// <summary>A PostgreSQL cluster of the test's own, with one database, that the test stops and starts again.</summary>
/// <remarks>
/// The services under test keep the connection string they were given, so PostgreSQL must come back on the same port,
/// as a restarted server does. While it is down the port is held (bound, not listening: connections are refused as
/// by a stopped server) so that nothing else on the machine takes it in the meantime.
/// </remarks>
public sealed class PostgresOutage : IAsyncDisposable
{
    private IDisposable? _portHeld;

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
    public async Task StopAsync()
    {
        await Server.StopAsync();
        _portHeld = FreePort.Hold(Server.Port);
    }

    /// <summary>Starts the cluster again, on the same data and port.</summary>
    public async Task StartAsync()
    {
        // PostgreSQL binds with SO_REUSEADDR, so it starts while the port is still held: there is no moment in which
        // another process could take it.
        await Server.StartAsync(Server.DataDirectory, Server.Port);
        ReleasePort();
    }

    public async Task<string> ScalarAsync(string sql) => await Server.ExecuteScalarAsync("scalelite", sql);

    public async ValueTask DisposeAsync()
    {
        ReleasePort();
        await Server.DisposeAsync();
    }

    private void ReleasePort()
    {
        _portHeld?.Dispose();
        _portHeld = null;
    }
}
