using Scalelite.AppHost;
using Scalelite.AppHost.Resources;

namespace Scalelite.Tests.AppHost;

[Collection(Scalelite.Tests.Support.TopologyCollection.Name)]
public sealed class DistributedApplicationTests
{
    private static readonly TimeSpan OnlineTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StartAsync_StubTopology_RegistersSimulatorsWiresServicesAndStopsEverything()
    {
        var stateDirectory = StubTopology.NewStateDirectory();
        List<int> started;
        ScaleliteEndpoints endpoints;
        await using (var app = ScaleliteTopology.Build(StubTopology.Options(stateDirectory, simulators: 2)))
        {
            await app.StartAsync();
            await app.WaitForSimulatorsOnlineAsync(OnlineTimeout);
            started = StubTopology.RecordedProcesses(stateDirectory);
            endpoints = ScaleliteEndpoints.Read(Path.Combine(stateDirectory, "endpoints.json"))!;

            Assert.Equal(app.Endpoints, endpoints with { Simulators = app.Endpoints!.Simulators });
            Assert.Equal(["sim-1", "sim-2"], endpoints.Simulators.Select(s => s.Id));
            Assert.Matches(@"^http://127\.0\.0\.1:\d+/bigbluebutton/api$", endpoints.Api.Url);
            Assert.Equal(endpoints.Api.Url.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal), endpoints.Admin.Url);
            Assert.Equal((await File.ReadAllTextAsync(Path.Combine(stateDirectory, "secret"))).Trim(), endpoints.Api.Secret);
            Assert.Matches(@"^Host=127\.0\.0\.1;Port=\d+;Username=postgres;Database=scalelite$", endpoints.Postgres);
            Assert.Matches(@"^127\.0\.0\.1:\d+$", endpoints.Redis);

            var environment = StubTopology.ReceivedEnvironment(stateDirectory, "poller");
            Assert.Equal(endpoints.Postgres, environment["ConnectionStrings__scalelite"]);
            Assert.Equal(endpoints.Redis, environment["ConnectionStrings__redis"]);
            Assert.Equal(endpoints.Api.Secret, environment["LOADBALANCER_SECRET"]);
            Assert.Equal(endpoints.Poller.Url, environment["ASPNETCORE_URLS"]);
            Assert.Equal(endpoints.Api.Url.Replace("/bigbluebutton/api", "", StringComparison.Ordinal), environment["services__api__http__0"]);
            Assert.Equal(endpoints.RecordingSync.Url, environment["services__recordingsync__http__0"]);
            Assert.Equal("poller", environment["OTEL_SERVICE_NAME"]);
            Assert.Equal("7", environment["POLL_INTERVAL"]);
            Assert.Equal("2", environment["SERVER_UNHEALTHY_THRESHOLD"]);
            Assert.Equal(Path.Combine(stateDirectory, "recordings", "spool"), environment["RECORDING_SPOOL_DIR"]);
            Assert.True(Directory.Exists(environment["RECORDING_PUBLISH_DIR"]));
            // The launcher's own environment reaches the services.
            Assert.Equal(Environment.GetEnvironmentVariable("HOME"), environment["HOME"]);

            var admin = new ScaleliteAdminClient(new HttpClient(), endpoints.Admin.Url, endpoints.Api.Secret);
            var servers = await admin.GetServersAsync(CancellationToken.None);
            Assert.Equal(endpoints.Simulators.Select(s => s.Url).Order(), servers.Select(s => s.Url).Order());
            Assert.All(servers, server => Assert.Equal("enabled", server.State));
            Assert.All(app.Resources.Where(r => r.Name.StartsWith("sim-", StringComparison.Ordinal)), r => Assert.Equal(ResourceState.Healthy, r.State));
            Assert.Equal(ResourceState.Healthy, app.Resources.Single(r => r.Name == "api").State);
        }

        Assert.Equal(6, started.Count);
        Assert.All(started, pid => Assert.False(ProcessUtilities.IsAlive(pid), $"process {pid} ({ProcessUtilities.CommandLine(pid)}) is still running"));
        Assert.False(File.Exists(Path.Combine(stateDirectory, "endpoints.json")));
        Assert.True(FreePort.IsFree(new Uri(endpoints.Api.Url).Port));
    }

    [Fact]
    public async Task StartAsync_SameStateDirectoryAgain_KeepsPortsAndDoesNotPileUpRegistrations()
    {
        var stateDirectory = StubTopology.NewStateDirectory();
        ScaleliteEndpoints first;
        string operatorServer;
        await using (var app = ScaleliteTopology.Build(StubTopology.Options(stateDirectory, simulators: 2)))
        {
            await app.StartAsync();
            first = app.Endpoints!;
            var admin = new ScaleliteAdminClient(new HttpClient(), first.Admin.Url, first.Api.Secret);
            operatorServer = await admin.AddServerAsync("http://10.0.0.9/bigbluebutton/api", "operator", 1, CancellationToken.None);
        }

        await using (var app = ScaleliteTopology.Build(StubTopology.Options(stateDirectory, simulators: 1)))
        {
            await app.StartAsync();
            var second = app.Endpoints!;
            var admin = new ScaleliteAdminClient(new HttpClient(), second.Admin.Url, second.Api.Secret);
            var servers = await admin.GetServersAsync(CancellationToken.None);

            Assert.Equal(first.Api, second.Api);
            Assert.Equal(first.Simulators[0], second.Simulators.Single());
            // sim-1 reused, sim-2 (registered by the first run, now gone) deleted, the operator's server untouched.
            Assert.Equal(2, servers.Count);
            Assert.Single(servers, s => s.Url == first.Simulators[0].Url && s.State == "enabled");
            Assert.Single(servers, s => s.Id == operatorServer && s.State == "disabled");
        }
    }

    [Fact]
    public async Task StartAsync_ApiExitsDuringStartup_FailsWithItsLogAndStopsTheRest()
    {
        var stateDirectory = StubTopology.NewStateDirectory();
        var options = StubTopology.Options(stateDirectory, simulators: 1);
        options = options with
        {
            CommandOverrides = new Dictionary<string, CommandSpec>(options.CommandOverrides)
            {
                ["api"] = new("sh", ["-c", "echo 'no database for me' >&2; exit 3"]),
            },
        };
        List<int> started;
        await using (var app = ScaleliteTopology.Build(options))
        {
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

            Assert.Contains("api exited with code 3", failure.Message, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(stateDirectory, "logs", "api.log"), failure.Message, StringComparison.Ordinal);
            Assert.Contains("no database for me", await File.ReadAllTextAsync(Path.Combine(stateDirectory, "logs", "api.log")), StringComparison.Ordinal);
            var api = app.Resources.Single(r => r.Name == "api");
            Assert.Equal(ResourceState.Failed, api.State);
            Assert.Equal(3, api.ExitCode);
            started = StubTopology.RecordedProcesses(stateDirectory);
        }

        Assert.NotEmpty(started);
        Assert.All(started, pid => Assert.False(ProcessUtilities.IsAlive(pid)));
    }

    [Fact]
    public async Task StartAsync_EarlierLauncherNeverStopped_StopsItsLeftoversFirst()
    {
        var stateDirectory = StubTopology.NewStateDirectory();
        var abandoned = ScaleliteTopology.Build(StubTopology.Options(stateDirectory, simulators: 1));
        await abandoned.StartAsync();
        var leftovers = StubTopology.RecordedProcesses(stateDirectory);

        try
        {
            // As after a launcher killed with SIGKILL: nothing was stopped, the next start finds it all in the state directory.
            await using var next = ScaleliteTopology.Build(StubTopology.Options(stateDirectory, simulators: 1));
            await next.StartAsync();

            Assert.All(leftovers, pid => Assert.False(ProcessUtilities.IsAlive(pid), $"leftover {pid} ({ProcessUtilities.CommandLine(pid)}) still runs"));
            Assert.Equal(ResourceState.Healthy, next.Resources.Single(r => r.Name == "api").State);
            // The leftovers were stopped before ports were chosen, so every address is the same as before.
            Assert.Equal(abandoned.Endpoints!.Postgres, next.Endpoints!.Postgres);
            Assert.Equal(abandoned.Endpoints.Redis, next.Endpoints.Redis);
            Assert.Equal(abandoned.Endpoints.Api, next.Endpoints.Api);
        }
        finally
        {
            await abandoned.DisposeAsync();
        }
    }

    [Fact]
    public async Task StartAsync_NoSimulators_StartsWithoutTheSimulatorProcess()
    {
        var stateDirectory = StubTopology.NewStateDirectory();
        await using var app = ScaleliteTopology.Build(StubTopology.Options(stateDirectory, simulators: 0));

        await app.StartAsync();
        await app.WaitForSimulatorsOnlineAsync(TimeSpan.FromSeconds(1));

        Assert.Empty(app.Endpoints!.Simulators);
        Assert.DoesNotContain(app.Resources, r => r.Name == "simulators");
    }
}
