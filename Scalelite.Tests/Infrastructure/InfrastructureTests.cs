using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Scalelite.LocalServers;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Infrastructure;

public sealed class InfrastructureTests(InfrastructureFixture fixture) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task CreateDatabase_TwoCalls_GiveSeparateDatabasesThatAnswer()
    {
        var first = await fixture.CreateDatabaseAsync("Infra Tests");
        var second = await fixture.CreateDatabaseAsync("Infra Tests");

        Assert.NotEqual(first, second);
        Assert.StartsWith($"Host=127.0.0.1;Port={fixture.Postgres.Port};Username=postgres;Database=infra_tests_", first, StringComparison.Ordinal);
        await fixture.Postgres.ExecuteScalarAsync(DatabaseOf(first), "create table marker (id int)");
        Assert.Equal("1", await fixture.Postgres.ExecuteScalarAsync(DatabaseOf(first), "select count(*) from pg_tables where tablename = 'marker'"));
        Assert.Equal("0", await fixture.Postgres.ExecuteScalarAsync(DatabaseOf(second), "select count(*) from pg_tables where tablename = 'marker'"));
    }

    [Fact]
    public async Task SharedRedis_Ping_AnswersPong()
    {
        Assert.Equal($"127.0.0.1:{fixture.Redis.Port}", fixture.RedisConnectionString);
        Assert.True(await fixture.Redis.PingAsync());
        Assert.NotEqual(fixture.NextRedisDatabase(), fixture.NextRedisDatabase());
    }

    [Fact]
    public async Task DedicatedRedis_Dispose_LeavesNoProcess()
    {
        var redis = await fixture.StartDedicatedRedisAsync();
        var pid = redis.ProcessId!.Value;
        Assert.NotEqual(fixture.Redis.Port, redis.Port);
        Assert.Equal("+OK", await redis.SendAsync("SET k v"));
        Assert.Equal("+OK", await redis.SendAsync("FLUSHALL"));

        await redis.DisposeAsync();

        Assert.False(ProcessUtilities.IsAlive(pid));
        Assert.False(await redis.PingAsync());
        Assert.True(await fixture.Redis.PingAsync(), "the shared Redis must not be affected");
    }

    [Fact]
    public async Task DedicatedPostgres_Dispose_LeavesNoProcess()
    {
        var postgres = await fixture.StartDedicatedPostgresAsync();
        var postmaster = postgres.ProcessId!.Value;
        await postgres.CreateDatabaseAsync("scalelite");
        Assert.Equal("1", await postgres.ExecuteScalarAsync("scalelite", "select 1"));
        Assert.NotEmpty(ChildrenOf(postmaster));

        await postgres.DisposeAsync();

        Assert.False(ProcessUtilities.IsAlive(postmaster));
        Assert.Empty(ChildrenOf(postmaster));
        Assert.True(FreePort.IsFree(postgres.Port));
    }

    [Fact]
    public async Task PostgresStart_StaleServerOnSameDataDirectory_StopsItFirst()
    {
        var abandoned = await fixture.StartDedicatedPostgresAsync();
        var stalePid = abandoned.ProcessId!.Value;
        await abandoned.CreateDatabaseAsync("kept");

        // As after a run that was killed: a new owner starts on the same data directory without knowing the old server.
        await using var next = new PostgresServer(new PostgresServerOptions { Throwaway = true });
        await next.StartAsync(abandoned.DataDirectory);

        Assert.False(ProcessUtilities.IsAlive(stalePid));
        Assert.Equal("1", await next.ExecuteScalarAsync("postgres", "select count(*) from pg_database where datname = 'kept'"));
    }

    [Fact]
    public async Task RedisStart_StaleServerInSameDirectory_StopsItFirst()
    {
        var abandoned = await fixture.StartDedicatedRedisAsync();
        var stalePid = abandoned.ProcessId!.Value;

        await using var next = new RedisServer();
        await next.StartAsync(abandoned.Directory);

        Assert.False(ProcessUtilities.IsAlive(stalePid));
        Assert.True(await next.PingAsync());
    }

    [Fact]
    public async Task PostgresStart_PortTakenBeforeTheServerBindsIt_StartsOnAnotherPort()
    {
        await using var postgres = new PostgresServer(new PostgresServerOptions { Throwaway = true });
        var directory = Path.Combine(TestInfrastructure.RunDirectory, $"pg-{Guid.NewGuid():N}"[..11], "data");
        using var squatter = new Squatter();

        var failures = new List<Exception>();

        var port = await FreePort.StartOnFreePortAsync(async p =>
        {
            try
            {
                await postgres.StartAsync(directory, squatter.TakeFirst(p));
            }
            catch (Exception e)
            {
                failures.Add(e);
                throw;
            }
        });

        Assert.IsType<PortInUseException>(Assert.Single(failures));
        Assert.NotEqual(squatter.Port, port);
        Assert.Equal(port, postgres.Port);
        Assert.Equal("1", await postgres.ExecuteScalarAsync("postgres", "select 1"));
    }

    [Fact]
    public async Task RedisStart_PortTakenBeforeTheServerBindsIt_StartsOnAnotherPort()
    {
        await using var redis = new RedisServer();
        var directory = Path.Combine(TestInfrastructure.RunDirectory, $"redis-{Guid.NewGuid():N}"[..14]);
        using var squatter = new Squatter();

        var port = await FreePort.StartOnFreePortAsync(p => redis.StartAsync(directory, squatter.TakeFirst(p)));

        Assert.NotEqual(squatter.Port, port);
        Assert.Equal(port, redis.Port);
        Assert.True(await redis.PingAsync());
    }

    [Fact]
    public async Task PostgresOutage_WhileStopped_RefusesConnectionsAndComesBackOnItsPort()
    {
        await using var outage = await PostgresOutage.StartAsync(fixture);
        var port = outage.Server.Port;

        await outage.StopAsync();
        var refused = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
        });
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        await outage.StartAsync();
        Assert.Equal(port, outage.Server.Port);
        Assert.Equal("1", await outage.ScalarAsync("select 1"));
    }

    private static string DatabaseOf(string connectionString) =>
        connectionString.Split(';').Single(part => part.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent && fields[0] is not ("Z" or "X"))
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }
        return children;
    }

    /// <summary>Another process's listener, taking the first port a start is given just before the server binds it.</summary>
    private sealed class Squatter : IDisposable
    {
        private TcpListener? _listener;

        public int Port => ((IPEndPoint)_listener!.LocalEndpoint).Port;

        public int TakeFirst(int port)
        {
            if (_listener is null)
            {
                _listener = new TcpListener(IPAddress.Loopback, port);
                _listener.Start();
            }

            return port;
        }

        public void Dispose() => _listener?.Stop();
    }
}
