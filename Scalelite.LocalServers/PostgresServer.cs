using System.Globalization;
using System.Text.RegularExpressions;

namespace Scalelite.LocalServers;

/// <summary>How a <see cref="PostgresServer"/> is run.</summary>
public sealed record PostgresServerOptions
{
    /// <summary>
    /// A cluster whose data may be lost (tests): initdb --no-sync, and fsync, synchronous_commit and
    /// full_page_writes off. Never for data that must survive a crash.
    /// </summary>
    public bool Throwaway { get; init; }

    /// <summary>The server log; defaults to <c>DATA/../postgres.log</c>.</summary>
    public string? LogFile { get; init; }

    /// <summary>The Unix socket directory; defaults to a directory next to the data directory.</summary>
    public string? SocketDirectory { get; init; }

    /// <summary>The directory holding initdb and pg_ctl; defaults to <see cref="Prerequisites.EnsurePostgresBinDirectoryAsync"/>.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>Receives a line before a slow install of the server programs starts.</summary>
    public Action<string>? Report { get; init; }

    /// <summary>Extra <c>-c name=value</c> server settings.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A PostgreSQL cluster run from the local server binaries: initdb on first start, pg_ctl start/stop, databases
/// created with psql. Listens on 127.0.0.1 only, with trust authentication for user <c>postgres</c>.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so when we are root initdb and pg_ctl run as the <c>postgres</c> user and the
/// data, socket and log locations are handed to that user. psql runs as the caller: it connects over TCP.
/// </remarks>
public sealed partial class PostgresServer : IAsyncDisposable
{
    /// <summary>The operating-system user PostgreSQL runs as when we are root, and its superuser role.</summary>
    public const string ServerUser = "postgres";
    private readonly PostgresServerOptions _options;
    private string? _binDirectory;
    private string? _temporarySocketDirectory;

    public PostgresServer(PostgresServerOptions? options = null) => _options = options ?? new PostgresServerOptions();

    public string DataDirectory { get; private set; } = "";

    public int Port { get; private set; }

    public string LogFile { get; private set; } = "";

    /// <summary>The postmaster's process id while running.</summary>
    public int? ProcessId { get; private set; }

    public bool IsRunning => ProcessId is int pid && ProcessUtilities.IsAlive(pid);

    private string Bin(string program) => Path.Combine(_binDirectory ??= _options.BinDirectory ?? Prerequisites.FindPostgresBinDirectory(), program);

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/> on a free port (<see cref="Port"/>), on another one when
    /// something else took the first (see <see cref="FreePort.StartOnFreePortAsync"/>).
    /// </summary>
    public Task StartAsync(string dataDirectory, CancellationToken cancellationToken = default) =>
        FreePort.StartOnFreePortAsync(port => StartAsync(dataDirectory, port, cancellationToken));

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/> on <paramref name="port"/>, creating it when the directory
    /// is empty, after stopping a server a killed earlier run may have left on the same data directory.
    /// </summary>
    /// <exception cref="PortInUseException">Something else holds <paramref name="port"/>.</exception>
    public async Task StartAsync(string dataDirectory, int port, CancellationToken cancellationToken = default)
    {
        if (ProcessId is not null)
        {
            throw new InvalidOperationException("This PostgreSQL server is already started.");
        }
        DataDirectory = Path.GetFullPath(dataDirectory);
        Port = port;
        var parent = Path.GetDirectoryName(DataDirectory)!;
        LogFile = Path.GetFullPath(_options.LogFile ?? Path.Combine(parent, "postgres.log"));
        var socketDirectory = ChooseSocketDirectory(parent);

        _binDirectory ??= _options.BinDirectory ?? await Prerequisites.EnsurePostgresBinDirectoryAsync(_options.Report, cancellationToken);
        await StopStaleAsync(DataDirectory, cancellationToken);

        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(socketDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(LogFile)!);
        if (!File.Exists(LogFile))
        {
            await File.WriteAllTextAsync(LogFile, "", cancellationToken);
        }
        await HandToServerUserAsync(cancellationToken, DataDirectory, socketDirectory, LogFile);

        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            if (Directory.EnumerateFileSystemEntries(DataDirectory).Any())
            {
                throw new InvalidOperationException(
                    $"{DataDirectory} is neither empty nor a PostgreSQL data directory; move it away or choose another state directory.");
            }
            await CommandRunner.RunCheckedAsync(Bin("initdb"), InitDbArguments(DataDirectory, _options.Throwaway), cancellationToken, ServerUser);
        }

        var settings = new List<string>
        {
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-k", ShellQuote(socketDirectory),
            "-c", "listen_addresses=127.0.0.1",
        };
        var extra = new Dictionary<string, string>(_options.Settings);
        if (_options.Throwaway)
        {
            extra.TryAdd("fsync", "off");
            extra.TryAdd("synchronous_commit", "off");
            extra.TryAdd("full_page_writes", "off");
            // Many test classes, each with its own database and connection pool.
            extra.TryAdd("max_connections", "300");
        }
        foreach (var (name, value) in extra)
        {
            settings.Add("-c");
            settings.Add(ShellQuote($"{name}={value}"));
        }

        var logStart = new FileInfo(LogFile).Length;
        var start = await CommandRunner.RunAsync(
            Bin("pg_ctl"),
            ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", string.Join(' ', settings), "start"],
            cancellationToken,
            ServerUser,
            TimeSpan.FromSeconds(90));
        if (!start.Succeeded)
        {
            var message = $"PostgreSQL did not start on port {port} (pg_ctl exit code {start.ExitCode}). Log {LogFile}:{Environment.NewLine}" +
                $"{start.Output}{Environment.NewLine}{Tail(LogFile, 15)}";
            throw PortInUseException.IsBindFailure(ReadFrom(LogFile, logStart))
                ? new PortInUseException(port, message)
                : new InvalidOperationException(message);
        }
        ProcessId = ProcessUtilities.ReadPidFile(Path.Combine(DataDirectory, "postmaster.pid"));
    }

    /// <summary>initdb's arguments for a cluster in <paramref name="dataDirectory"/>: superuser postgres, trust authentication, UTF-8.</summary>
    public static IReadOnlyList<string> InitDbArguments(string dataDirectory, bool throwaway) =>
        throwaway
            ? ["-D", dataDirectory, "-U", ServerUser, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]
            : ["-D", dataDirectory, "-U", ServerUser, "-A", "trust", "-E", "UTF8", "--no-locale"];

    /// <summary>A connection string in Npgsql's format for <paramref name="database"/>.</summary>
    public string GetConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={ServerUser};Database={database}";

    /// <summary>Creates <paramref name="database"/> unless it exists; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        if (!DatabaseName().IsMatch(database))
        {
            throw new ArgumentException($"'{database}' is not a plain database name (lowercase letters, digits, underscores).", nameof(database));
        }
        var exists = await ExecuteScalarAsync("postgres", $"select 1 from pg_database where datname = '{database}'", cancellationToken);
        if (exists != "1")
        {
            await ExecuteScalarAsync("postgres", $"create database \"{database}\"", cancellationToken);
        }
        return GetConnectionString(database);
    }

    /// <summary>Runs SQL with psql and returns its unaligned, tuples-only output.</summary>
    public async Task<string> ExecuteScalarAsync(string database, string sql, CancellationToken cancellationToken = default)
    {
        var result = await CommandRunner.RunCheckedAsync(
            Bin("psql"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", ServerUser, "-d", database,
             "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            cancellationToken);
        return result.StandardOutput.Trim();
    }

    /// <summary>Stops the server (fast shutdown); does nothing when it is not running.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (ProcessId is null)
        {
            return;
        }
        await StopDataDirectoryAsync(Bin("pg_ctl"), DataDirectory, cancellationToken);
        ProcessId = null;
        if (_temporarySocketDirectory is string socketDirectory && Directory.Exists(socketDirectory))
        {
            Directory.Delete(socketDirectory, recursive: true);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>
    /// Stops a server still running on <paramref name="dataDirectory"/> (its postmaster.pid names a live postgres),
    /// for example one left behind by a run that was killed.
    /// </summary>
    public static async Task<bool> StopStaleAsync(string dataDirectory, CancellationToken cancellationToken = default)
    {
        var pid = ProcessUtilities.ReadPidFile(Path.Combine(dataDirectory, "postmaster.pid"));
        if (pid is not int alive || !ProcessUtilities.IsAlive(alive) || !ProcessUtilities.CommandLine(alive).Contains("postgres", StringComparison.Ordinal))
        {
            return false;
        }
        await StopDataDirectoryAsync(Path.Combine(Prerequisites.FindPostgresBinDirectory(), "pg_ctl"), dataDirectory, cancellationToken);
        return true;
    }

    private static async Task StopDataDirectoryAsync(string pgCtl, string dataDirectory, CancellationToken cancellationToken)
    {
        var pid = ProcessUtilities.ReadPidFile(Path.Combine(dataDirectory, "postmaster.pid"));
        var stop = await CommandRunner.RunAsync(
            pgCtl, ["-D", dataDirectory, "-m", "fast", "-w", "-t", "30", "stop"], cancellationToken, ServerUser, TimeSpan.FromSeconds(40));
        if (pid is int postmaster && !await ProcessUtilities.WaitForExitAsync(postmaster, TimeSpan.FromSeconds(stop.Succeeded ? 5 : 0), cancellationToken))
        {
            // pg_ctl could not stop it (for example a damaged data directory): do not leave it running.
            await ProcessUtilities.TerminateAsync(postmaster, TimeSpan.FromSeconds(5), cancellationToken);
        }
    }

    private string ChooseSocketDirectory(string parent)
    {
        if (_options.SocketDirectory is string configured)
        {
            return Path.GetFullPath(configured);
        }
        var beside = Path.Combine(parent, "postgres-socket");
        // A Unix socket path is limited to 107 bytes; ".s.PGSQL.NNNNN.lock" must fit after the directory.
        if (beside.Length <= 80)
        {
            return beside;
        }
        _temporarySocketDirectory = Path.Combine(Path.GetTempPath(), $"scalelite-pg-{Guid.NewGuid():N}"[..24]);
        return _temporarySocketDirectory;
    }

    /// <summary>
    /// When we are root, gives <paramref name="paths"/> to the <see cref="ServerUser"/> (PostgreSQL refuses to run as root)
    /// and checks that user can reach them; otherwise does nothing.
    /// </summary>
    public static async Task HandToServerUserAsync(CancellationToken cancellationToken, params string[] paths)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }
        await CommandRunner.RunCheckedAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", .. paths], cancellationToken);
        foreach (var path in paths)
        {
            var reachable = await CommandRunner.RunAsync("test", ["-w", path], cancellationToken, ServerUser);
            if (!reachable.Succeeded)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL runs as user '{ServerUser}' (it refuses root), and that user cannot reach {path}. " +
                    "Make its parent directories traversable (chmod o+x) or choose a state directory elsewhere, e.g. under /tmp.");
            }
        }
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>What was written to <paramref name="path"/> after <paramref name="offset"/>: this start's part of a shared log.</summary>
    internal static string ReadFrom(string path, long offset)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    internal static string Tail(string path, int lines)
    {
        try
        {
            return string.Join(Environment.NewLine, File.ReadLines(path).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
