using System.Collections.Concurrent;
using System.Text.Json;
using Scalelite.AppHost.Resources;

namespace Scalelite.AppHost;

/// <summary>
/// A running <see cref="ScaleliteTopology"/>: starts the resources in order, watches them, and stops everything it
/// started on <see cref="DisposeAsync"/> (services, then simulators, Redis, PostgreSQL), also after a failed start.
/// </summary>
/// <remarks>
/// A child that exits is reported as Exited/Failed with its exit code and log; it is not restarted, so a crash stays
/// visible instead of flapping. Everything that outlives a killed launcher is found again through the state
/// directory (pid files, postmaster.pid, redis.pid) and stopped by the next start.
/// </remarks>
public sealed class DistributedApplication : IAsyncDisposable
{
    private static readonly TimeSpan ServiceStopGrace = TimeSpan.FromSeconds(10);

    private readonly AppHostOptions _options;
    private readonly ConcurrentDictionary<string, ResourceStatus> _statuses = new();
    private readonly List<string> _order = [];
    private readonly Lock _orderGate = new();
    private readonly Dictionary<string, ManagedProcess> _services = [];
    // A handful of calls (health probes, registration): a fresh connection each, so that a connection the other side
    // has just closed is never reused for a POST, which HttpClient would not retry.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5), DefaultRequestHeaders = { ConnectionClose = true } };
    private readonly CancellationTokenSource _monitorStop = new();
    private PostgresServer? _postgres;
    private RedisServer? _redis;
    private ManagedProcess? _simulatorProcess;
    private Task? _monitor;
    private ScaleliteAdminClient? _admin;
    private IReadOnlyList<SimulatorEndpoint> _simulators = [];
    private bool _locked;
    private int _disposed;

    internal DistributedApplication(AppHostOptions options)
    {
        if (options.Simulators < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The number of simulators cannot be negative.");
        }
        _options = options;
        State = new StateDirectory(options.StateDirectory);
    }

    public StateDirectory State { get; }

    /// <summary>LOADBALANCER_SECRET of this run (known after start).</summary>
    public string Secret { get; private set; } = "";

    /// <summary>The addresses of the running topology, also in endpoints.json; null until started.</summary>
    public ScaleliteEndpoints? Endpoints { get; private set; }

    /// <summary>Snapshots of every resource, in start order.</summary>
    public IReadOnlyList<ResourceStatus> Resources
    {
        get
        {
            lock (_orderGate)
            {
                return _order.Select(name => _statuses[name]).ToList();
            }
        }
    }

    /// <summary>Raised (on a background thread) whenever a resource's state, health or URL changes.</summary>
    public event Action<ResourceStatus>? StatusChanged;

    public int SimulatorCount => _options.Simulators;

    /// <summary>Simulators that the admin API's getServers reports online.</summary>
    public int SimulatorsOnline => _simulators.Count(s => _statuses.TryGetValue(s.Id, out var status) && status.State == ResourceState.Healthy);

    /// <summary>
    /// Starts every resource and returns once the Api is healthy, the simulators are registered and enabled, and
    /// endpoints.json is written. On failure the exception says which resource and where its log is; call
    /// <see cref="DisposeAsync"/> to stop what did start.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        State.Create();
        State.Lock();
        _locked = true;
        File.Delete(State.EndpointsFile);
        await StopStaleChildrenAsync(cancellationToken);

        var remembered = State.LoadState();
        Secret = _options.Secret ?? State.GetOrCreateSecret();
        remembered.SimulatorSecret ??= StateDirectory.NewSecret();
        var ports = AssignPorts(remembered);
        State.SaveState(remembered);
        foreach (var kind in ScaleliteTopology.RecordingDirectories)
        {
            Directory.CreateDirectory(ScaleliteTopology.RecordingDirectory(State, kind));
        }

        // Declare every resource up front so the status table shows the whole topology from the first moment.
        Declare(ScaleliteTopology.PostgresName);
        Declare(ScaleliteTopology.RedisName);
        if (_options.Simulators > 0)
        {
            Declare(ScaleliteTopology.Simulators.Name);
        }
        foreach (var service in ScaleliteTopology.Services)
        {
            Declare(service.Name, ScaleliteTopology.Url(ports[service.Name]), State.LogFile(service.Name));
        }

        await Task.WhenAll(
            StartPostgresAsync(ports[ScaleliteTopology.PostgresName], cancellationToken),
            StartRedisAsync(ports[ScaleliteTopology.RedisName], cancellationToken),
            StartSimulatorsAsync(remembered, cancellationToken));

        var context = new TopologyContext(
            _postgres!.GetConnectionString(ScaleliteTopology.DatabaseName),
            _redis!.ConnectionString,
            Secret,
            ScaleliteTopology.Services.ToDictionary(s => s.Name, s => ports[s.Name]),
            State);
        foreach (var service in ScaleliteTopology.Services)
        {
            StartService(service, context);
        }
        _monitor = Task.Run(() => MonitorAsync(_monitorStop.Token), CancellationToken.None);

        var apiUrl = ScaleliteTopology.Url(ports[ScaleliteTopology.ApiName]);
        await WaitForHealthyAsync(ScaleliteTopology.ApiName, cancellationToken);
        _admin = new ScaleliteAdminClient(_http, apiUrl + "/scalelite/api", Secret);
        await RegisterSimulatorsAsync(remembered, cancellationToken);

        Endpoints = new ScaleliteEndpoints(
            new ApiEndpoint(apiUrl + "/bigbluebutton/api", Secret),
            new UrlEndpoint(apiUrl + "/scalelite/api"),
            _simulators,
            context.PostgresConnectionString,
            context.RedisConnectionString,
            new UrlEndpoint(ScaleliteTopology.Url(ports[ScaleliteTopology.PollerName])),
            new UrlEndpoint(ScaleliteTopology.Url(ports[ScaleliteTopology.RecordingSyncName])),
            State.Root);
        StateDirectory.WriteAtomically(State.EndpointsFile, Endpoints.ToJson());
    }

    /// <summary>Waits until getServers reports every simulator online.</summary>
    public async Task WaitForSimulatorsOnlineAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            while (SimulatorsOnline < _options.Simulators)
            {
                await Task.Delay(100, limit.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"Only {SimulatorsOnline}/{_options.Simulators} simulators were online after {timeout.TotalSeconds:0} s. " +
                $"Logs are in {State.Logs}.");
        }
    }

    /// <summary>Stops everything that was started: services, then simulators, Redis, PostgreSQL.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _monitorStop.CancelAsync();
        if (_monitor is not null)
        {
            await _monitor.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        await Task.WhenAll(_services.Values.Reverse().Select(service => StopProcessAsync(service)));
        if (_simulatorProcess is not null)
        {
            await StopProcessAsync(_simulatorProcess);
        }
        if (_redis is not null)
        {
            Set(ScaleliteTopology.RedisName, s => s with { State = ResourceState.Stopping });
            await _redis.StopAsync();
            Set(ScaleliteTopology.RedisName, s => s with { State = ResourceState.Stopped, Health = null });
        }
        if (_postgres is not null)
        {
            Set(ScaleliteTopology.PostgresName, s => s with { State = ResourceState.Stopping });
            await _postgres.StopAsync();
            Set(ScaleliteTopology.PostgresName, s => s with { State = ResourceState.Stopped, Health = null });
        }
        if (_locked)
        {
            File.Delete(State.EndpointsFile);
            State.Unlock();
        }
        _monitorStop.Dispose();
        _http.Dispose();
    }

    private Dictionary<string, int> AssignPorts(LauncherState remembered)
    {
        var ports = new Dictionary<string, int>();
        int Remembered(string name) => remembered.Ports.GetValueOrDefault(name);
        foreach (var name in new[] { ScaleliteTopology.PostgresName, ScaleliteTopology.RedisName }.Concat(ScaleliteTopology.Services.Select(s => s.Name)))
        {
            if (name == ScaleliteTopology.ApiName && _options.ApiPort is int apiPort)
            {
                ports[name] = FreePort.IsFree(apiPort)
                    ? apiPort
                    : throw new InvalidOperationException($"--api-port {apiPort}: the port is in use on 127.0.0.1.");
            }
            else
            {
                ports[name] = FreePort.PreferOrNext(Remembered(name));
            }
        }
        remembered.Ports = ports;
        remembered.SimulatorPorts = Enumerable.Range(0, _options.Simulators)
            .Select(i => FreePort.PreferOrNext(i < remembered.SimulatorPorts.Count ? remembered.SimulatorPorts[i] : null))
            .ToList();
        return ports;
    }

    /// <summary>
    /// Stops what a launcher killed earlier left running on this state directory, services first, before ports are
    /// chosen: the remembered ports are then free again and URLs stay the same.
    /// </summary>
    private async Task StopStaleChildrenAsync(CancellationToken cancellationToken)
    {
        foreach (var pidFile in Directory.EnumerateFiles(State.Pids, "*.pid"))
        {
            if (await ManagedProcess.StopStaleAsync(pidFile, cancellationToken))
            {
                _options.Notice?.Invoke($"Stopped {Path.GetFileNameWithoutExtension(pidFile)} left running by an earlier run.");
            }
        }
        if (await RedisServer.StopStaleAsync(State.Redis, cancellationToken))
        {
            _options.Notice?.Invoke("Stopped redis left running by an earlier run.");
        }
        if (await PostgresServer.StopStaleAsync(State.PostgresData, cancellationToken))
        {
            _options.Notice?.Invoke("Stopped postgres left running by an earlier run.");
        }
    }

    private async Task StartPostgresAsync(int port, CancellationToken cancellationToken)
    {
        var name = ScaleliteTopology.PostgresName;
        Set(name, s => s with { State = ResourceState.Starting, LogFile = State.PostgresLog });
        _postgres = new PostgresServer(new PostgresServerOptions { LogFile = State.PostgresLog, Report = _options.Notice });
        try
        {
            await _postgres.StartAsync(State.PostgresData, port, cancellationToken);
            var connectionString = await _postgres.CreateDatabaseAsync(ScaleliteTopology.DatabaseName, cancellationToken);
            Set(name, s => s with { State = ResourceState.Healthy, Url = connectionString });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Set(name, s => s with { State = ResourceState.Failed, Health = ex.Message.Split('\n')[0] });
            throw;
        }
    }

    private async Task StartRedisAsync(int port, CancellationToken cancellationToken)
    {
        var name = ScaleliteTopology.RedisName;
        Set(name, s => s with { State = ResourceState.Starting, LogFile = State.LogFile(name) });
        _redis = new RedisServer(new RedisServerOptions { LogFile = State.LogFile(name), Report = _options.Notice });
        try
        {
            await _redis.StartAsync(State.Redis, port, cancellationToken);
            Set(name, s => s with { State = ResourceState.Healthy, Url = _redis.ConnectionString });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Set(name, s => s with { State = ResourceState.Failed, Health = ex.Message.Split('\n')[0] });
            throw;
        }
    }

    private async Task StartSimulatorsAsync(LauncherState remembered, CancellationToken cancellationToken)
    {
        if (_options.Simulators == 0)
        {
            return;
        }
        var resource = ScaleliteTopology.Simulators;
        var arguments = ScaleliteTopology.SimulatorArguments(
            _options.Simulators, remembered.SimulatorSecret!, remembered.SimulatorPorts, State.SimulatorManifest);
        File.Delete(State.SimulatorManifest);
        Set(resource.Name, s => s with { State = ResourceState.Starting, LogFile = State.LogFile(resource.Name) });
        _simulatorProcess = Launch(resource, arguments, new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Development",
        });

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_options.StartupTimeout);
        while (!File.Exists(State.SimulatorManifest))
        {
            if (_simulatorProcess.Exited.IsCompleted)
            {
                throw new InvalidOperationException(
                    $"The simulators exited with code {await _simulatorProcess.Exited} before writing {State.SimulatorManifest}; see {State.LogFile(resource.Name)}.");
            }
            try
            {
                await Task.Delay(50, limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"The simulators did not write {State.SimulatorManifest} within {_options.StartupTimeout.TotalSeconds:0} s; see {State.LogFile(resource.Name)}.");
            }
        }
        var manifest = JsonSerializer.Deserialize<SimulatorManifest>(await File.ReadAllTextAsync(State.SimulatorManifest, cancellationToken))
            ?? throw new InvalidOperationException($"{State.SimulatorManifest} is empty.");
        _simulators = manifest.Simulators;
        Set(resource.Name, s => s with { State = ResourceState.Running, Health = $"{_simulators.Count} servers" });
        foreach (var simulator in _simulators)
        {
            Declare(simulator.Id, simulator.Url);
            Set(simulator.Id, s => s with { State = ResourceState.Running, Health = "not registered" });
        }
    }

    private void StartService(ProjectResource service, TopologyContext context)
    {
        Set(service.Name, s => s with { State = ResourceState.Starting });
        var environment = ScaleliteTopology.ServiceEnvironment(service, context, _options, Environment.GetEnvironmentVariable);
        _services[service.Name] = Launch(service, [], environment);
    }

    private ManagedProcess Launch(ProjectResource resource, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        string fileName;
        List<string> fullArguments;
        if (_options.CommandOverrides.TryGetValue(resource.Name, out var command))
        {
            fileName = command.FileName;
            fullArguments = [.. command.Arguments, .. arguments];
        }
        else
        {
            var dll = resource.DllPath(_options);
            if (!File.Exists(dll))
            {
                throw new FileNotFoundException(
                    $"{dll} is missing. Build first: dotnet build Scalelite.AppHost -c {_options.Configuration}.", dll);
            }
            fileName = DotnetHost();
            fullArguments = [dll, .. arguments];
        }
        var process = ManagedProcess.Start(
            resource.Name, fileName, fullArguments, environment, State.Root, State.LogFile(resource.Name), State.PidFile(resource.Name));
        _ = process.Exited.ContinueWith(exit => OnExited(resource.Name, process, exit.Result), TaskScheduler.Default);
        return process;
    }

    private void OnExited(string name, ManagedProcess process, int exitCode)
    {
        if (process.StopRequested)
        {
            Set(name, s => s with { State = ResourceState.Stopped, ExitCode = exitCode, Health = null });
        }
        else
        {
            Set(name, s => s with { State = exitCode == 0 ? ResourceState.Exited : ResourceState.Failed, ExitCode = exitCode, Health = null });
        }
    }

    private async Task StopProcessAsync(ManagedProcess process)
    {
        Set(process.Name, s => s.State is ResourceState.Exited or ResourceState.Failed ? s : s with { State = ResourceState.Stopping });
        await process.StopAsync(ServiceStopGrace);
        await process.DisposeAsync();
    }

    private async Task WaitForHealthyAsync(string name, CancellationToken cancellationToken)
    {
        var process = _services[name];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_options.StartupTimeout);
        while (_statuses[name].State != ResourceState.Healthy)
        {
            if (process.Exited.IsCompleted)
            {
                throw new InvalidOperationException(
                    $"{name} exited with code {await process.Exited} during start-up; see {State.LogFile(name)}.");
            }
            try
            {
                await Task.Delay(100, limit.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"{name} did not answer 200 on /health within {_options.StartupTimeout.TotalSeconds:0} s " +
                    $"(last: {_statuses[name].Health ?? "no answer"}); see {State.LogFile(name)}.");
            }
        }
    }

    /// <summary>
    /// Registers each simulator through the admin API and enables it, reusing a registration with the same URL, and
    /// deletes servers an earlier run of this launcher added whose URL is gone. Servers added by an operator are left alone.
    /// </summary>
    private async Task RegisterSimulatorsAsync(LauncherState remembered, CancellationToken cancellationToken)
    {
        var admin = _admin!;
        var servers = await admin.GetServersAsync(cancellationToken);
        var current = _simulators.Select(s => s.Url).ToHashSet(StringComparer.Ordinal);

        foreach (var (id, url) in remembered.RegisteredServers.ToList())
        {
            if (current.Contains(url))
            {
                continue;
            }
            if (servers.Any(s => s.Id == id))
            {
                await admin.DeleteServerAsync(id, cancellationToken);
                _options.Notice?.Invoke($"Removed {url} (registered by an earlier run, no longer simulated).");
            }
            remembered.RegisteredServers.Remove(id);
        }

        foreach (var simulator in _simulators)
        {
            var existing = servers.FirstOrDefault(s => string.Equals(s.Url, simulator.Url, StringComparison.Ordinal));
            string id;
            if (existing is null)
            {
                id = await admin.AddServerAsync(simulator.Url, simulator.Secret, 1, cancellationToken);
                remembered.RegisteredServers[id] = simulator.Url;
                State.SaveState(remembered);
                await admin.EnableServerAsync(id, cancellationToken);
            }
            else
            {
                id = existing.Id;
                if (existing.State is not ("enabled" or "enable"))
                {
                    await admin.EnableServerAsync(id, cancellationToken);
                }
            }
            Set(simulator.Id, s => s with { Health = $"registered as {id}, offline" });
        }
        State.SaveState(remembered);
    }

    private async Task MonitorAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.MonitorInterval);
        do
        {
            await Task.WhenAll(ScaleliteTopology.Services.Select(service => ProbeServiceAsync(service.Name, cancellationToken)).Append(ProbeSimulatorsAsync(cancellationToken)));
            ProbeInfrastructure();
        }
        while (await WaitForTickAsync(timer, cancellationToken));
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ProbeServiceAsync(string name, CancellationToken cancellationToken)
    {
        if (!_services.TryGetValue(name, out var process) || process.Exited.IsCompleted || process.StopRequested)
        {
            return;
        }
        try
        {
            using var response = await _http.GetAsync(new Uri(_statuses[name].Url + "/health"), cancellationToken);
            var healthy = response.IsSuccessStatusCode;
            Set(name, s => s.State is ResourceState.Exited or ResourceState.Failed or ResourceState.Stopping or ResourceState.Stopped ? s : s with
            {
                State = healthy ? ResourceState.Healthy : ResourceState.Unhealthy,
                Health = $"/health {(int)response.StatusCode}",
            });
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Not listening yet while starting; after that, no answer is a health finding.
            Set(name, s => s.State is ResourceState.Starting
                ? s with { Health = "not listening yet" }
                : s.State is ResourceState.Healthy or ResourceState.Unhealthy or ResourceState.Running
                    ? s with { State = ResourceState.Unhealthy, Health = "/health: no answer" }
                    : s);
        }
    }

    private async Task ProbeSimulatorsAsync(CancellationToken cancellationToken)
    {
        if (_admin is null || _simulators.Count == 0)
        {
            return;
        }
        try
        {
            var servers = await _admin.GetServersAsync(cancellationToken);
            foreach (var simulator in _simulators)
            {
                var server = servers.FirstOrDefault(s => s.Url == simulator.Url);
                Set(simulator.Id, s => s with
                {
                    State = server?.Online == true ? ResourceState.Healthy : ResourceState.Unhealthy,
                    Health = server is null ? "not registered" : $"{(server.Online ? "online" : "offline")}, {server.State}",
                });
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            // The Api's own status shows why; keep the last known simulator status.
        }
    }

    private void ProbeInfrastructure()
    {
        if (_postgres is { ProcessId: not null, IsRunning: false })
        {
            Set(ScaleliteTopology.PostgresName, s => s with { State = ResourceState.Failed, Health = "postmaster is gone" });
        }
        if (_redis is { ProcessId: not null, IsRunning: false })
        {
            Set(ScaleliteTopology.RedisName, s => s with { State = ResourceState.Failed, Health = "redis-server is gone" });
        }
        if (_simulatorProcess is { Exited.IsCompleted: false })
        {
            Set(ScaleliteTopology.Simulators.Name, s => s.State == ResourceState.Starting ? s : s with { State = ResourceState.Running });
        }
    }

    private void Declare(string name, string? url = null, string? logFile = null)
    {
        lock (_orderGate)
        {
            if (!_order.Contains(name))
            {
                _order.Add(name);
            }
        }
        _statuses.TryAdd(name, new ResourceStatus(name, ResourceState.NotStarted, url, LogFile: logFile));
    }

    private void Set(string name, Func<ResourceStatus, ResourceStatus> change)
    {
        Declare(name);
        while (true)
        {
            var before = _statuses[name];
            var after = change(before);
            if (after == before)
            {
                return;
            }
            if (_statuses.TryUpdate(name, after, before))
            {
                StatusChanged?.Invoke(after);
                return;
            }
        }
    }

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}
