using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Scalelite.LocalServers;

/// <summary>How a <see cref="RedisServer"/> is run.</summary>
public sealed record RedisServerOptions
{
    /// <summary>The server log; defaults to <c>DIR/redis.log</c>.</summary>
    public string? LogFile { get; init; }

    /// <summary>Number of logical databases (Redis's default is 16).</summary>
    public int Databases { get; init; } = 16;

    /// <summary>Receives a line when redis-server has to be installed first.</summary>
    public Action<string>? Report { get; init; }
}

/// <summary>
/// A Redis server without persistence (it only caches derived state here), bound to 127.0.0.1, daemonized with a pid
/// file in its directory so that a later run can find and stop it if this process is killed.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly RedisServerOptions _options;

    public RedisServer(RedisServerOptions? options = null) => _options = options ?? new RedisServerOptions();

    public string Directory { get; private set; } = "";

    public int Port { get; private set; }

    public string LogFile { get; private set; } = "";

    public int? ProcessId { get; private set; }

    public bool IsRunning => ProcessId is int pid && ProcessUtilities.IsAlive(pid);

    /// <summary>The StackExchange.Redis-style connection string, <c>127.0.0.1:PORT</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    private string PidFile => Path.Combine(Directory, "redis.pid");

    /// <summary>
    /// Starts Redis in <paramref name="directory"/> on a free port (<see cref="Port"/>), on another one when something
    /// else took the first (see <see cref="FreePort.StartOnFreePortAsync"/>).
    /// </summary>
    public Task StartAsync(string directory, CancellationToken cancellationToken = default) =>
        FreePort.StartOnFreePortAsync(port => StartAsync(directory, port, cancellationToken));

    /// <summary>Starts Redis on <paramref name="port"/>, after stopping one a killed earlier run left in <paramref name="directory"/>.</summary>
    /// <exception cref="PortInUseException">Something else holds <paramref name="port"/>.</exception>
    public async Task StartAsync(string directory, int port, CancellationToken cancellationToken = default)
    {
        if (ProcessId is not null)
        {
            throw new InvalidOperationException("This Redis server is already started.");
        }
        Directory = Path.GetFullPath(directory);
        Port = port;
        LogFile = Path.GetFullPath(_options.LogFile ?? Path.Combine(Directory, "redis.log"));
        System.IO.Directory.CreateDirectory(Directory);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(LogFile)!);

        var server = await Prerequisites.EnsureRedisServerAsync(_options.Report, cancellationToken);
        await StopStaleAsync(Directory, cancellationToken);
        File.Delete(PidFile);

        var logStart = File.Exists(LogFile) ? new FileInfo(LogFile).Length : 0;
        var start = await CommandRunner.RunAsync(
            server,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--databases", _options.Databases.ToString(CultureInfo.InvariantCulture),
             "--daemonize", "yes", "--dir", Directory, "--pidfile", PidFile, "--logfile", LogFile],
            cancellationToken,
            timeout: TimeSpan.FromSeconds(30));
        if (!start.Succeeded)
        {
            throw new InvalidOperationException($"redis-server did not start (exit code {start.ExitCode}): {start.Output}");
        }

        // The daemon binds and then writes its pid file after the parent returned; wait for both. A daemon that cannot
        // bind exits before it writes the pid file, and says so in its log.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            ProcessId ??= ProcessUtilities.ReadPidFile(PidFile);
            if (ProcessId is not null && await PingAsync(cancellationToken))
            {
                return;
            }
            if (ProcessId is null && PortInUseException.IsBindFailure(PostgresServer.ReadFrom(LogFile, logStart)))
            {
                throw new PortInUseException(port, $"Redis could not bind port {port}. Log {LogFile}:{Environment.NewLine}{PostgresServer.Tail(LogFile, 5)}");
            }
            if (DateTime.UtcNow > deadline || (ProcessId is int pid && !ProcessUtilities.IsAlive(pid)))
            {
                var log = PostgresServer.Tail(LogFile, 15);
                await StopAsync(cancellationToken);
                throw new InvalidOperationException($"Redis did not answer on port {port}. Log {LogFile}:{Environment.NewLine}{log}");
            }
            await Task.Delay(25, cancellationToken);
        }
    }

    /// <summary>Sends PING over TCP; true on +PONG.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync("PING", cancellationToken) == "+PONG";
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Sends one inline command and returns the first reply line (for example "+OK" or ":1").</summary>
    public async Task<string> SendAsync(string inlineCommand, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(inlineCommand + "\r\n"), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return (await reader.ReadLineAsync(timeout.Token))?.Trim() ?? "";
    }

    /// <summary>Stops the server without saving; kills it when it does not go.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (ProcessId is not int pid)
        {
            return;
        }
        if (ProcessUtilities.IsAlive(pid))
        {
            try
            {
                // Redis closes the connection instead of answering SHUTDOWN.
                await SendAsync("SHUTDOWN NOSAVE", cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
            }
            if (!await ProcessUtilities.WaitForExitAsync(pid, TimeSpan.FromSeconds(5), cancellationToken))
            {
                await ProcessUtilities.TerminateAsync(pid, TimeSpan.FromSeconds(3), cancellationToken);
            }
        }
        ProcessId = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>Stops a redis-server whose pid file is in <paramref name="directory"/> and which is still alive.</summary>
    public static async Task<bool> StopStaleAsync(string directory, CancellationToken cancellationToken = default)
    {
        var pid = ProcessUtilities.ReadPidFile(Path.Combine(directory, "redis.pid"));
        if (pid is not int alive || !ProcessUtilities.IsAlive(alive) || !ProcessUtilities.CommandLine(alive).Contains("redis-server", StringComparison.Ordinal))
        {
            return false;
        }
        await ProcessUtilities.TerminateAsync(alive, TimeSpan.FromSeconds(5), cancellationToken);
        return true;
    }
}
