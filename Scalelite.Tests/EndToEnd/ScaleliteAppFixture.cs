using System.Collections.Concurrent;
using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.AppHost;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// The whole application, as <c>dotnet run --project Scalelite.AppHost</c> declares it, started once for the
/// end-to-end tests through Aspire.Hosting.Testing: PostgreSQL, Redis, three simulated BBB servers registered through
/// the CLI, and the three services. Ready once Aspire reports every resource running and healthy, the registration
/// step finished and every simulated server online, and the AppHost has written endpoints.json.
/// </summary>
/// <remarks>
/// The tests get a system that is entirely up, so none of them needs a start-up deadline of its own. Readiness is
/// awaited on Aspire's resource notifications, so on a quiet machine the fixture goes on the moment the last resource
/// is ready. Any resource that fails to start or stops while the system starts (its process exits, a port it needs is
/// taken) fails the fixture at once with that resource's name, state and last console lines, rather than after the
/// whole deadline (<see cref="FirstFailureAsync"/>).
/// </remarks>
public class ScaleliteAppFixture : IAsyncLifetime
{
    public const int Simulators = 3;

    /// <summary>
    /// The one start-up deadline. About 20 s on a quiet 2-core machine, 35-60 s while other work keeps its load
    /// average at 15-25 (each process gets a fraction of a core while a dozen processes JIT at once): five minutes
    /// covers a loaded machine several times over and still ends a run whose start is broken.
    /// </summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The resources that must be running and healthy, as the dashboard lists them.</summary>
    public static readonly IReadOnlyList<string> Resources = ["postgres", "scalelite", "redis", "simulators", "api", "poller", "recordingsync"];

    /// <summary>How many of a resource's last console lines a start-up failure shows.</summary>
    private const int LogTail = 20;

    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _logs = new();

    public ScaleliteAppFixture()
        : this(apiReplicas: 1)
    {
    }

    /// <summary>With <paramref name="apiReplicas"/> above 1, the API runs as that many replicas behind the AppHost's nginx.</summary>
    protected ScaleliteAppFixture(int apiReplicas)
    {
        ApiReplicas = apiReplicas;
        AllResources = apiReplicas > 1
            ? [.. Resources, .. Enumerable.Range(1, apiReplicas).Select(i => $"api-{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}")]
            : Resources;
    }

    public int ApiReplicas { get; }

    /// <summary><see cref="Resources"/>, and the API's replicas when there are several.</summary>
    public IReadOnlyList<string> AllResources { get; }

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>What the AppHost wrote to endpoints.json.</summary>
    public ScaleliteEndpoints Endpoints { get; private set; } = null!;

    public string StateDirectory { get; } = Path.Combine(TestInfrastructure.RunDirectory, $"e2e-{Guid.NewGuid():N}"[..12]);

    /// <summary>From the start of the AppHost until the whole system was ready.</summary>
    public TimeSpan ReadyAfter { get; private set; }

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var watch = Stopwatch.StartNew();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Scalelite_AppHost>(
            ["--state-dir", StateDirectory, "--simulators", Simulators.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--api-replicas", ApiReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture), .. ExtraArgs], timeout.Token);
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
        // Watched from before the start, so that no resource's failure goes unseen.
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var failure = FirstFailureAsync(stopWatching.Token);
        var waits = new List<(string Name, Func<ResourceEvent, bool> Ready)>();
        waits.AddRange(AllResources.Select(name => (name, (Func<ResourceEvent, bool>)IsRunningAndHealthy)));
        waits.Add((SimulatorExtensions.Registration, e => e.Snapshot.State?.Text == KnownResourceStates.Finished && e.Snapshot.ExitCode == 0));
        waits.AddRange(Enumerable.Range(1, Simulators).Select(i => ($"sim-{i}", (Func<ResourceEvent, bool>)(e => e.Snapshot.State?.Text == "Online"))));
        var pending = new ConcurrentDictionary<string, byte>(waits.Select(w => KeyValuePair.Create(w.Name, (byte)0)));

        try
        {
            var ready = ReadyAsync();
            if (await Task.WhenAny(ready, failure) == failure)
            {
                // Throws the failure; returns only when the deadline ended the watch, and then ready throws too.
                await failure;
            }

            await ready;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The system was not ready after {StartTimeout}; still waiting for: " +
                string.Join(", ", pending.Keys.Order().Select(Describe).DefaultIfEmpty("endpoints.json")) +
                string.Concat(pending.Keys.Order().Select(LastLogLines)));
        }
        finally
        {
            await stopWatching.CancelAsync();
        }

        async Task ReadyAsync()
        {
            await App.StartAsync(timeout.Token);
            await Task.WhenAll(waits.Select(w => WaitForAsync(w.Name, w.Ready, pending, timeout.Token)));
            // Written right after the last simulator was seen online.
            var file = Path.Combine(StateDirectory, "endpoints.json");
            while (!File.Exists(file))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
            }

            Endpoints = ScaleliteEndpoints.Read(file)!;
        }

        ReadyAfter = watch.Elapsed;
    }

    /// <summary>Running, and healthy by every health check it has (Aspire counts a resource without checks as healthy).</summary>
    public static bool IsRunningAndHealthy(ResourceEvent e) =>
        e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy;

    /// <summary>Waits until <paramref name="ready"/>; fails at once when the resource stops instead.</summary>
    private async Task WaitForAsync(string name, Func<ResourceEvent, bool> ready, ConcurrentDictionary<string, byte> pending, CancellationToken cancellationToken)
    {
        var reached = await App.ResourceNotifications.WaitForResourceAsync(
            name, e => ready(e) || KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken);
        if (!ready(reached))
        {
            throw new InvalidOperationException($"{name} stopped while the system started: {Describe(reached)}{LastLogLines(name, reached.ResourceId)}");
        }

        pending.TryRemove(name, out _);
    }

    /// <summary>
    /// Completes with an exception naming the first resource that fails while the system starts, with its state and its
    /// last console lines; completes normally only when <paramref name="cancellationToken"/> ends the watch.
    /// </summary>
    /// <remarks>
    /// Every resource is watched, not only those awaited by name, and for the whole start: one that was ready and then
    /// stopped (a server whose port was taken exits after it first answered), or one nothing waits on directly, would
    /// otherwise leave the fixture waiting out <see cref="StartTimeout"/> for a system that can no longer come up.
    /// </remarks>
    private async Task FirstFailureAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in App.ResourceNotifications.WatchAsync(cancellationToken))
            {
                // Logs are kept by the instance's id (a project's is its name and a suffix), not by the resource's name.
                KeepLogTail(e.ResourceId);
                if (HasFailed(e))
                {
                    throw new InvalidOperationException(
                        $"{e.Resource.Name} failed while the system started: {Describe(e)}{await FullLogTailAsync(e.Resource.Name, e.ResourceId)}");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ready, or the deadline passed: the caller reports which.
        }
    }

    /// <summary>
    /// Failed to start, or ended: with an exit code other than 0, or at all when it is one of the resources that should
    /// keep running (<see cref="AllResources"/>). One-shot steps (the database's initialisation, the simulators'
    /// registration) end with 0.
    /// </summary>
    private bool HasFailed(ResourceEvent e)
    {
        var state = e.Snapshot.State?.Text;
        if (state == KnownResourceStates.FailedToStart || state == KnownResourceStates.RuntimeUnhealthy)
        {
            return true;
        }

        return state is not null && KnownResourceStates.TerminalStates.Contains(state)
            && (e.Snapshot.ExitCode is not (null or 0) || AllResources.Contains(e.Resource.Name));
    }

    /// <summary>The last <see cref="LogTail"/> lines a resource wrote up to now, everything its process printed included.</summary>
    private async Task<string> FullLogTailAsync(string name, string resourceId)
    {
        // The console output of a process that ended reaches the log service shortly after its state does; reading the
        // whole log for a while longer gives the lines that say why, which the live tail may not hold yet.
        var lines = new ConcurrentQueue<string>();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), limit.Token);
            await foreach (var batch in App.Services.GetRequiredService<ResourceLoggerService>().GetAllAsync(resourceId).WithCancellation(limit.Token))
            {
                foreach (var line in batch)
                {
                    Keep(lines, line.Content);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Whatever was read within the limit.
        }

        return lines.IsEmpty ? LastLogLines(name, resourceId) : Tail(name, lines);
    }

    /// <summary>Starts keeping the last console lines of a resource instance, once per instance.</summary>
    private void KeepLogTail(string resourceId)
    {
        var tail = new ConcurrentQueue<string>();
        if (_logs.TryAdd(resourceId, tail))
        {
            _ = KeepLogTailAsync(resourceId, tail, App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        }
    }

    /// <summary>Keeps the last <see cref="LogTail"/> console lines of a resource, for a start-up failure to show.</summary>
    private async Task KeepLogTailAsync(string resourceId, ConcurrentQueue<string> tail, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in App.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(resourceId).WithCancellation(cancellationToken))
            {
                foreach (var line in batch)
                {
                    Keep(tail, line.Content);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
    }

    private string LastLogLines(string name) =>
        LastLogLines(name, App.ResourceNotifications.TryGetCurrentState(name, out var current) ? current.ResourceId : name);

    private string LastLogLines(string name, string resourceId) => Tail(name, _logs.TryGetValue(resourceId, out var tail) ? tail : new ConcurrentQueue<string>());

    private static string Tail(string name, ConcurrentQueue<string> lines) =>
        !lines.IsEmpty
            ? $"{Environment.NewLine}--- last lines of {name} ---{Environment.NewLine}{string.Join(Environment.NewLine, lines)}"
            : $"{Environment.NewLine}--- {name} logged nothing ---";

    /// <summary>Adds a line to a tail that keeps the last <see cref="LogTail"/>.</summary>
    private static void Keep(ConcurrentQueue<string> tail, string line)
    {
        tail.Enqueue(line);
        if (tail.Count > LogTail)
        {
            tail.TryDequeue(out _);
        }
    }

    private string Describe(string name) =>
        App.ResourceNotifications.TryGetCurrentState(name, out var current) ? $"{name} ({Describe(current)})" : name;

    private static string Describe(ResourceEvent e) =>
        $"state {e.Snapshot.State?.Text ?? "none"}, health {e.Snapshot.HealthStatus?.ToString() ?? "none"}" +
        (e.Snapshot.ExitCode is int code ? $", exit code {code}" : "");

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
