using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Scalelite.BbbSimulator;

/// <summary>State shared by every request of one host.</summary>
internal sealed class SimulatorRuntime(string bbbVersion) : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Servers indexed by local port: one array read per request, whatever the number of servers.</summary>
    public SimulatedServer?[] ByPort { get; } = new SimulatedServer?[65536];

    public string BbbVersion { get; } = bbbVersion;

    /// <summary>Fires when the host begins to stop, releasing requests parked by hang/slow.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void SignalStopping() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();
}

/// <summary>
/// Hosts N simulated BBB servers in one process: one Kestrel instance with one listener per server,
/// each request dispatched to its server by the local port it arrived on.
/// </summary>
public sealed class BbbSimulatorHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly SimulatorRuntime _runtime;
    private readonly Dictionary<string, SimulatedServer> _byId;
    private int _stopped;

    private BbbSimulatorHost(IHost host, SimulatorRuntime runtime, IReadOnlyList<SimulatedServer> servers)
    {
        _host = host;
        _runtime = runtime;
        Servers = servers;
        _byId = servers.ToDictionary(s => s.Id, StringComparer.Ordinal);
    }

    /// <summary>The simulated servers, in id order (<c>sim-1</c> first).</summary>
    public IReadOnlyList<SimulatedServer> Servers { get; }

    /// <summary>Finds a server by id, e.g. <c>sim-2</c>.</summary>
    public SimulatedServer this[string id] => _byId[id];

    /// <summary>Starts every server; returns once all listeners are bound and their ports known.</summary>
    public static async Task<BbbSimulatorHost> StartAsync(SimulatorHostOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Validate();
        var urlHost = UrlHost(address);
        var runtime = new SimulatorRuntime(options.BbbVersion);
        var servers = new SimulatedServer[options.Count];
        var listeners = new ListenOptions[options.Count];
        for (var i = 0; i < servers.Length; i++)
        {
            var port = options.PortOf(i);
            servers[i] = new SimulatedServer(
                $"{options.IdPrefix}{i + 1}", options.SecretOf(i), urlHost, port, options.TimeProvider, options.DefaultSlowDelay)
            {
                SpoolDirectory = options.SpoolDirectory,
            };
        }

        var host = new HostBuilder()
            .ConfigureLogging(logging =>
            {
                logging.ClearProviders();
                options.ConfigureLogging?.Invoke(logging);
            })
            .ConfigureServices(services =>
            {
                // The default lifetime would hook Ctrl-C and SIGTERM of whatever process hosts us (a test run, a benchmark).
                services.AddSingleton<IHostLifetime, PassiveLifetime>();
                services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
            })
            .ConfigureWebHost(web => web
                .UseKestrelCore()
                .ConfigureKestrel(kestrel =>
                {
                    kestrel.AddServerHeader = false;
                    for (var i = 0; i < servers.Length; i++)
                    {
                        var index = i;
                        kestrel.Listen(address, servers[i].Port, listen =>
                        {
                            listen.Protocols = HttpProtocols.Http1;
                            listeners[index] = listen;
                        });
                    }
                })
                .Configure(app => app.Run(context => DispatchAsync(context, runtime))))
            .Build();

        foreach (var server in servers.Where(s => s.Port != 0))
        {
            runtime.ByPort[server.Port] = server;
        }

        try
        {
            await host.StartAsync(ct);
        }
        catch
        {
            host.Dispose();
            runtime.Dispose();
            throw;
        }

        // Kestrel writes the bound endpoint back into each ListenOptions, which is how ephemeral ports become known.
        for (var i = 0; i < servers.Length; i++)
        {
            var port = listeners[i].IPEndPoint?.Port ?? 0;
            if (port == 0)
            {
                await host.StopAsync(CancellationToken.None);
                host.Dispose();
                runtime.Dispose();
                throw new InvalidOperationException($"Listener of {servers[i].Id} reported no port.");
            }

            servers[i].Port = port;
            runtime.ByPort[port] = servers[i];
        }

        return new BbbSimulatorHost(host, runtime, servers);
    }

    /// <summary>Finds the server listening on <paramref name="port"/>.</summary>
    public SimulatedServer? FindByPort(int port) => port is >= 0 and <= 65535 ? _runtime.ByPort[port] : null;

    /// <summary>Stops every listener; requests parked by hang/slow are aborted so this returns promptly.</summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _runtime.SignalStopping();
        try
        {
            await _host.StopAsync(ct);
        }
        finally
        {
            _host.Dispose();
            _runtime.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync();

    internal const string ClientPath = "/html5client/join";

    private static Task DispatchAsync(HttpContext context, SimulatorRuntime runtime)
    {
        var server = runtime.ByPort[context.Connection.LocalPort];
        if (server is null)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        }

        var path = context.Request.Path.Value ?? string.Empty;
        if (path.StartsWith(BbbApi.PathPrefix, StringComparison.Ordinal))
        {
            var rest = path.AsSpan(BbbApi.PathPrefix.Length);
            if (rest.Length == 0 || rest[0] == '/')
            {
                var call = rest.TrimStart('/').TrimEnd('/').ToString();
                return BbbApi.HandleAsync(context, server, call, runtime);
            }
        }
        else if (path.StartsWith(ControlApi.PathPrefix, StringComparison.Ordinal))
        {
            return ControlApi.HandleAsync(context, server);
        }
        else if (path == ClientPath)
        {
            return ClientPageAsync(context);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>Stands in for the HTML5 client that join redirects to, so following the redirect ends in a 200.</summary>
    private static Task ClientPageAsync(HttpContext context)
    {
        var token = WebUtility.HtmlEncode(context.Request.Query["sessionToken"].ToString());
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(
            $"<!DOCTYPE html><html><head><title>BigBlueButton</title></head><body><p>Simulated client, session {token}</p></body></html>",
            Encoding.UTF8,
            context.RequestAborted);
    }

    private static string UrlHost(IPAddress address)
    {
        if (address.Equals(IPAddress.Any))
        {
            return "127.0.0.1";
        }

        if (address.Equals(IPAddress.IPv6Any))
        {
            return "[::1]";
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
    }

    /// <summary>A lifetime that leaves process signals to the process: the command line handles them itself.</summary>
    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
