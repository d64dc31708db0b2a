using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalelite.AppHost;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// The whole application, as <c>dotnet run --project Scalelite.AppHost</c> declares it, started once for the
/// end-to-end tests through Aspire.Hosting.Testing: PostgreSQL, Redis, three simulated BBB servers registered through
/// the CLI, and the three services. Ready once Aspire reports every simulated server online.
/// </summary>
public class ScaleliteAppFixture : IAsyncLifetime
{
    public const int Simulators = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>What the AppHost wrote to endpoints.json.</summary>
    public ScaleliteEndpoints Endpoints { get; private set; } = null!;

    public string StateDirectory { get; } = Path.Combine(TestInfrastructure.RunDirectory, $"e2e-{Guid.NewGuid():N}"[..12]);

    /// <summary>From the start of the AppHost until every simulator was online.</summary>
    public TimeSpan ReadyAfter { get; private set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var watch = Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Scalelite_AppHost>(
            ["--state-dir", StateDirectory, "--simulators", Simulators.ToString(System.Globalization.CultureInfo.InvariantCulture), .. ExtraArgs], timeout.Token);
        // Warnings and errors only, the resources' console output included; failing health checks while resources
        // start are expected.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Scalelite.AppHost.Resources", LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
        // Faster polls and imports than even the local defaults, on top of the topology as declared.
        Project(builder, "poller").WithEnvironment("POLL_INTERVAL", "1");
        Project(builder, "recordingsync").WithEnvironment("RECORDING_IMPORT_POLL_INTERVAL", "1").WithEnvironment("Recording__ImportSettleTime", "1");
        Configure(builder);

        App = await builder.BuildAsync(timeout.Token);
        await App.StartAsync(timeout.Token);
        await Task.WhenAll(Enumerable.Range(1, Simulators).Select(i =>
            App.ResourceNotifications.WaitForResourceAsync($"sim-{i}", "Online", timeout.Token)));
        var file = Path.Combine(StateDirectory, "endpoints.json");
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(file)), TimeSpan.FromSeconds(10), "endpoints.json is written once the pool is ready");
        Endpoints = ScaleliteEndpoints.Read(file)!;
        ReadyAfter = watch.Elapsed;
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }

    /// <summary>More AppHost flags, for a fixture that starts the topology otherwise.</summary>
    protected virtual IEnumerable<string> ExtraArgs => [];

    /// <summary>Changes to the topology as declared (settings of the services), for a fixture that needs them.</summary>
    protected virtual void Configure(IDistributedApplicationTestingBuilder builder)
    {
    }

    protected static IResourceBuilder<ProjectResource> Project(IDistributedApplicationTestingBuilder builder, string name) =>
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name));
}
