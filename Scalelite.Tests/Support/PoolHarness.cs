using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.Api.Extensions;
using Scalelite.BbbSimulator;
using Scalelite.Core;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Poller.Polling;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.Support;

/// <summary>
/// A pool for integration tests, in this process: the API on a real port, simulated BBB servers, and the
/// poller's cycle, which tests run on demand (<see cref="PollAsync"/>) instead of waiting for a timer.
/// PostgreSQL and Redis are the real servers of <see cref="InfrastructureFixture"/>.
/// </summary>
public sealed class PoolHarness : IAsyncDisposable
{
    public const string Secret = "harness-secret-0123456789";

    private readonly Dictionary<string, string?> _config;
    private readonly List<(WebApplication Api, BbbTestClient Client)> _replicas = [];
    private readonly LogCapture? _logs;

    private PoolHarness(WebApplication api, IHost poller, BbbSimulatorHost simulators, string apiUrl, IReadOnlyList<string> serverIds, string redis, Dictionary<string, string?> config, LogCapture? logs)
    {
        _config = config;
        _logs = logs;
        Api = api;
        Poller = poller;
        Simulators = simulators;
        Client = new BbbTestClient(apiUrl, Secret);
        ServerIds = serverIds;
        Redis = redis;
    }

    public WebApplication Api { get; }

    public IHost Poller { get; }

    public BbbSimulatorHost Simulators { get; }

    public BbbTestClient Client { get; }

    /// <summary>Our server ids, in the order of <see cref="BbbSimulatorHost.Servers"/>.</summary>
    public IReadOnlyList<string> ServerIds { get; }

    public string Redis { get; }

    /// <summary>The pool's PostgreSQL connection string.</summary>
    public string Database => _config["ConnectionStrings:scalelite"]!;

    /// <param name="database">A PostgreSQL connection string of the test's own (a dedicated cluster it stops and starts); a
    /// new database of the shared cluster when null.</param>
    /// <param name="logs">Receives what the API and the poller log, for tests that assert on logging.</param>
    /// <param name="registerServers">False leaves the pool empty: the simulators run, and the test registers them itself.</param>
    /// <param name="poller">Adds services to the poller's host (the canary, say).</param>
    public static async Task<PoolHarness> StartAsync(
        InfrastructureFixture infrastructure, int simulators = 3, IDictionary<string, string?>? settings = null, string? redis = null,
        string? database = null, LogCapture? logs = null, bool registerServers = true, Action<IServiceCollection>? poller = null)
    {
        database ??= await infrastructure.CreateDatabaseAsync("pool");
        redis ??= infrastructure.CreateRedisConnectionString();
        var config = new Dictionary<string, string?>
        {
            ["ConnectionStrings:scalelite"] = database,
            ["ConnectionStrings:redis"] = redis,
            ["Scalelite:Secrets"] = Secret,
            ["Poller:HealthyThreshold"] = "1",
            ["Poller:UnhealthyThreshold"] = "2",
            ["Poller:ReconcileGrace"] = "0",
            ["Backend:ConnectTimeout"] = "1",
            ["Backend:ResponseTimeout"] = "2",
            ["Backend:FanOutTimeout"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var sims = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions
        {
            Count = simulators,
            ConfigureLogging = l => l.SetMinimumLevel(LogLevel.Warning),
        });

        var (api, address) = await StartApiAsync(config, logs);

        var pollerBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        pollerBuilder.Configuration.AddInMemoryCollection(config);
        if (logs is not null)
        {
            pollerBuilder.Logging.AddProvider(logs.For("poller"));
        }

        pollerBuilder.AddScaleliteCore();
        pollerBuilder.Services.AddPolling();
        pollerBuilder.Services.AddAlertEvaluation();
        poller?.Invoke(pollerBuilder.Services);
        var pollerHost = pollerBuilder.Build();
        await pollerHost.StartAsync();

        await api.Services.GetRequiredService<DatabaseMigrator>().Migrated.WaitAsync(TimeSpan.FromSeconds(30));
        var admin = api.Services.GetRequiredService<ServerAdministration>();
        var ids = new List<string>();
        foreach (var sim in registerServers ? sims.Servers : [])
        {
            var added = await admin.AddAsync(sim.ApiUrl, sim.Secret, 1, null, CancellationToken.None);
            var server = added.Server;
            Assert.True(server is not null, added.Error);
            await admin.UpdateAsync(server.Id, new ServerAdministration.Update("enable", null, null, null, false), CancellationToken.None);
            ids.Add(server.Id);
        }

        // Commands fail at once while a connection is still being made (no queueing, see AddScaleliteCore), so the first
        // poll waits until both connections are up.
        await ConnectRedisAsync(api.Services);
        await ConnectRedisAsync(pollerHost.Services);
        var harness = new PoolHarness(api, pollerHost, sims, $"{address}/bigbluebutton/api", ids, redis, config, logs);
        await harness.PollAsync();
        return harness;
    }

    /// <summary>The replicas started with <see cref="StartApiReplicaAsync"/>, in order.</summary>
    public IReadOnlyList<WebApplication> ApiReplicas => [.. _replicas.Select(r => r.Api)];

    public string ApiBase => Client.BaseUrl;

    /// <summary>Starts one more API replica on the same PostgreSQL and Redis; returns a client for it.</summary>
    public async Task<BbbTestClient> StartApiReplicaAsync()
    {
        var (api, address) = await StartApiAsync(_config, _logs);
        await api.Services.GetRequiredService<DatabaseMigrator>().Migrated.WaitAsync(TimeSpan.FromSeconds(30));
        // Connect to Redis now: the first request would otherwise connect synchronously inside the DI lock, and a
        // herd arriving at that moment blocks thread-pool threads on it.
        await ConnectRedisAsync(api.Services);
        await api.Services.GetRequiredService<IServerDirectory>().RefreshAsync();
        var client = new BbbTestClient($"{address}/bigbluebutton/api", Secret);
        _replicas.Add((api, client));
        return client;
    }

    private static Task ConnectRedisAsync(IServiceProvider services)
    {
        var redis = services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        return Eventually.TrueAsync(async () =>
        {
            try
            {
                await redis.GetDatabase().PingAsync();
                return true;
            }
            catch (StackExchange.Redis.RedisException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "Redis is connected");
    }

    private static async Task<(WebApplication Api, string Address)> StartApiAsync(Dictionary<string, string?> config, LogCapture? logs)
    {
        var apiBuilder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        apiBuilder.Configuration.AddInMemoryCollection(config);
        if (logs is not null)
        {
            apiBuilder.Logging.AddProvider(logs.For("api"));
        }

        apiBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        apiBuilder.AddServiceDefaults();
        apiBuilder.AddApplicationServices();
        var api = apiBuilder.Build();
        api.MapDefaultEndpoints();
        api.MapApplicationEndpoints();
        await api.StartAsync();
        if (api.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Scalelite.Core.Configuration.ScaleliteOptions>>().Value.MultitenancyEnabled)
        {
            // Loaded means subscribed to tenant changes too: a tenant added from now on reaches this replica at once.
            var tenants = api.Services.GetRequiredService<Scalelite.Core.Tenancy.TenantDirectory>();
            await Eventually.TrueAsync(() => Task.FromResult(tenants.IsLoaded), TimeSpan.FromSeconds(30), "the replica has loaded the tenants");
        }

        return (api, api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>Runs one poll cycle, then makes the API see its verdicts at once.</summary>
    public async Task PollAsync()
    {
        await Poller.Services.GetRequiredService<PollCycle>().RunAsync(CancellationToken.None);
        await Api.Services.GetRequiredService<IServerDirectory>().RefreshAsync();
        foreach (var (replica, _) in _replicas)
        {
            await replica.Services.GetRequiredService<IServerDirectory>().RefreshAsync();
        }
    }

    public SimulatedServer Simulator(string serverId) => Simulators.Servers[ServerIds.ToList().IndexOf(serverId)];

    public string ServerIdOf(SimulatedServer simulator) => ServerIds[Simulators.Servers.ToList().IndexOf(simulator)];

    public T ApiService<T>() where T : notnull => Api.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        foreach (var (replica, client) in _replicas)
        {
            client.Dispose();
            await replica.StopAsync();
            await replica.DisposeAsync();
        }

        await Api.StopAsync();
        await Api.DisposeAsync();
        await Poller.StopAsync();
        Poller.Dispose();
        await Simulators.DisposeAsync();

        // The database is this harness's alone: its pooled connections would otherwise idle on for minutes.
        using var connection = new Npgsql.NpgsqlConnection(_config["ConnectionStrings:scalelite"]);
        Npgsql.NpgsqlConnection.ClearPool(connection);
    }
}
