using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Scalelite.LocalServers;

namespace Scalelite.AppHost;

/// <summary>
/// The AppHost's own flags (<c>--simulators N</c>, <c>--state-dir DIR</c>, <c>--api-port P</c>, <c>--secret S</c>,
/// <c>--dashboard false</c>, <c>--api-replicas N</c>), read from configuration so that Aspire's own arguments pass through untouched.
/// </summary>
public sealed record AppHostFlags(string StateDirectory, int Simulators, int? ApiPort, string? Secret, bool Dashboard, int ApiReplicas = 1, bool AspireReplicaFront = false)
{
    /// <summary>The most API replicas one machine is given.</summary>
    public const int MaxApiReplicas = 16;

    public const string Usage = """
        Usage: dotnet run --project Scalelite.AppHost [-- options]

        Starts PostgreSQL, Redis, simulated BBB servers and the Scalelite services under Aspire, with its dashboard;
        registers the simulators through the API, and stops everything on Ctrl-C or SIGTERM.

        Options:
          --state-dir DIR     data, recordings, ports and endpoints.json (default: .scalelite in the repository)
          --simulators N      number of simulated BBB servers (default: 3; 0 allowed)
          --api-port PORT     port of the API (default: the previous run's when free, else a free one)
          --api-replicas N    API instances behind the API's port, through nginx (default: 1, at most 16)
          --api-replica-front nginx|aspire
                              what spreads requests over the replicas: nginx (default), or Aspire's own replicas
                              behind DCP's proxy (kept for the join benchmark's comparison, bench/README.md)
          --secret SECRET     LOADBALANCER_SECRET (default: generated once, kept in STATE/secret)
          --dashboard false   no dashboard, and the services export no telemetry (benchmarks)
          -h, --help          show this help

        Environment variables given to the AppHost (POLL_INTERVAL, LOADBALANCER_CHECKSUM_ALGORITHM, ...)
        reach the services. See Scalelite.AppHost/README.md.
        """;

    /// <summary>Reads the flags; null with <paramref name="error"/> set when a value is wrong.</summary>
    public static AppHostFlags? Read(IConfiguration configuration, out string? error)
    {
        error = null;
        var stateDirectory = configuration["state-dir"] is { Length: > 0 } dir ? Path.GetFullPath(dir) : DefaultStateDirectory;
        var simulators = 3;
        if (configuration["simulators"] is { } count
            && (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out simulators) || simulators > 100))
        {
            error = $"--simulators expects a number from 0 to 100, not '{count}'.";
            return null;
        }

        int? apiPort = null;
        if (configuration["api-port"] is { } port)
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                error = $"--api-port expects a TCP port (1-65535), not '{port}'.";
                return null;
            }

            apiPort = p;
        }

        if (configuration["secret"] is { Length: 0 })
        {
            error = "--secret must not be empty.";
            return null;
        }

        var dashboard = true;
        if (configuration["dashboard"] is { } flag && !bool.TryParse(flag, out dashboard))
        {
            error = $"--dashboard expects true or false, not '{flag}'.";
            return null;
        }

        var apiReplicas = 1;
        if (configuration["api-replicas"] is { } replicas
            && (!int.TryParse(replicas, NumberStyles.None, CultureInfo.InvariantCulture, out apiReplicas) || apiReplicas is < 1 or > MaxApiReplicas))
        {
            error = $"--api-replicas expects a number from 1 to {MaxApiReplicas}, not '{replicas}'.";
            return null;
        }

        var front = configuration["api-replica-front"] ?? "nginx";
        if (front is not ("nginx" or "aspire"))
        {
            error = $"--api-replica-front expects nginx or aspire, not '{front}'.";
            return null;
        }

        return new AppHostFlags(stateDirectory, simulators, apiPort, configuration["secret"], dashboard, apiReplicas, front == "aspire");
    }

    public static bool AsksForHelp(IReadOnlyList<string> args) => args.Any(a => a is "-h" or "--help");

    /// <summary>
    /// <c>.scalelite</c> at the root of the repository the AppHost was built from (<c>dotnet run</c> starts it in its
    /// project directory), or in the current directory for a build that was moved elsewhere.
    /// </summary>
    public static string DefaultStateDirectory { get; } = Path.Combine(
        typeof(AppHostFlags).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "Scalelite.RepositoryRoot")?.Value is { } root && Directory.Exists(root)
            ? root
            : Environment.CurrentDirectory,
        ".scalelite");
}

/// <summary>
/// The state directory: <c>postgres/</c>, <c>redis/</c>, <c>recordings/</c>, <c>secret</c>, <c>state.json</c>,
/// <c>simulators.yaml</c>, <c>endpoints.json</c>. What one run remembers for the next lives here, so URLs stay stable.
/// </summary>
public sealed class LocalState
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly Remembered _remembered;

    public LocalState(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        if (!OperatingSystem.IsWindows())
        {
            // PostgreSQL runs as its own user when we are root: it must be able to traverse to its data directory.
            File.SetUnixFileMode(Root, File.GetUnixFileMode(Root) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }
        _remembered = Load();
        _remembered.SimulatorSecret ??= NewSecret();
    }

    public string Root { get; }

    public string Redis => Path.Combine(Root, "redis");

    public string Recordings => Path.Combine(Root, "recordings");

    public string EndpointsFile => Path.Combine(Root, "endpoints.json");

    public string SimulatorsFile => Path.Combine(Root, "simulators.yaml");

    private string LockFile => Path.Combine(Root, "apphost.pid");

    /// <summary>
    /// Claims the directory for this process. Fails when another live AppHost holds it: two on one state directory
    /// would fight over the same database.
    /// </summary>
    public void Lock()
    {
        if (ProcessUtilities.ReadPidFile(LockFile) is int other && other != Environment.ProcessId && ProcessUtilities.IsAlive(other)
            && ProcessUtilities.CommandLine(other).Contains("Scalelite.AppHost", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Another AppHost (pid {other}) is using {Root}. Stop it, or pass a different --state-dir.");
        }

        File.WriteAllText(LockFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Releases the directory and removes what only describes a running system.</summary>
    public void Release()
    {
        File.Delete(EndpointsFile);
        if (ProcessUtilities.ReadPidFile(LockFile) == Environment.ProcessId)
        {
            File.Delete(LockFile);
        }
    }

    /// <summary>The secret of the simulated BBB servers, kept across runs so registrations stay valid.</summary>
    public string SimulatorSecret => _remembered.SimulatorSecret!;

    /// <summary>Simulator URLs this AppHost registered in earlier runs (only these are ever disabled by it).</summary>
    public IReadOnlyCollection<string> RegisteredUrls => _remembered.RegisteredUrls;

    /// <summary>
    /// PostgreSQL's data directory: <c>STATE/postgres/data</c>, unless PostgreSQL (which refuses root and so runs as
    /// user <c>postgres</c>) could not reach it, as with a checkout under <c>/root</c>. Then the data lives in
    /// <c>/var/lib/scalelite-apphost/&lt;hash of the state path&gt;/data</c>, stable across runs.
    /// </summary>
    public string PostgresData
    {
        get
        {
            if (!Environment.IsPrivilegedProcess || OthersCanTraverse(Root))
            {
                return Path.Combine(Root, "postgres", "data");
            }

            var key = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Root)))[..16];
            return Path.Combine("/var/lib/scalelite-apphost", key, "data");
        }
    }

    /// <summary>The LOADBALANCER_SECRET of this state directory, generated on first use.</summary>
    public string GetOrCreateSecret()
    {
        var file = Path.Combine(Root, "secret");
        if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } kept)
        {
            return kept;
        }

        var secret = NewSecret();
        WriteAtomically(file, secret + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return secret;
    }

    /// <summary>
    /// The port remembered under <paramref name="name"/> when it is still free, else a free one; remembered for next time.
    /// An explicit <paramref name="required"/> port must be free.
    /// </summary>
    public int Port(string name, int? required = null)
    {
        int port;
        if (required is int wanted)
        {
            port = FreePort.IsFree(wanted) ? wanted : throw new InvalidOperationException($"Port {wanted} for {name} is in use on 127.0.0.1.");
        }
        else
        {
            port = FreePort.PreferOrNext(_remembered.Ports.TryGetValue(name, out var last) ? last : null);
        }

        _remembered.Ports[name] = port;
        Save();
        return port;
    }

    /// <summary>Remembers the simulator URLs given to the registration step.</summary>
    public void RememberRegistered(IEnumerable<string> urls)
    {
        _remembered.RegisteredUrls = [.. _remembered.RegisteredUrls.Union(urls, StringComparer.Ordinal)];
        Save();
    }

    /// <summary>Writes to a temporary file and renames it into place, so readers never see half a file.</summary>
    public static void WriteAtomically(string path, string content)
    {
        var temporary = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private string StateFile => Path.Combine(Root, "state.json");

    private Remembered Load()
    {
        try
        {
            return File.Exists(StateFile) ? JsonSerializer.Deserialize<Remembered>(File.ReadAllText(StateFile)) ?? new() : new();
        }
        catch (JsonException)
        {
            return new();
        }
    }

    private void Save() => WriteAtomically(StateFile, JsonSerializer.Serialize(_remembered, Json));

    private static bool OthersCanTraverse(string path)
    {
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if (dir.Exists && !dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Remembered
    {
        public Dictionary<string, int> Ports { get; set; } = [];

        public string? SimulatorSecret { get; set; }

        public List<string> RegisteredUrls { get; set; } = [];
    }
}
