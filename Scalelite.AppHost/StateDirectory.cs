using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Scalelite.AppHost.Resources;

namespace Scalelite.AppHost;

/// <summary>What a run remembers for the next one with the same state directory.</summary>
public sealed class LauncherState
{
    /// <summary>Ports by resource name, reused when still free so URLs stay stable across runs.</summary>
    [JsonPropertyName("ports")]
    public Dictionary<string, int> Ports { get; set; } = [];

    [JsonPropertyName("simulatorPorts")]
    public List<int> SimulatorPorts { get; set; } = [];

    [JsonPropertyName("simulatorSecret")]
    public string? SimulatorSecret { get; set; }

    /// <summary>Servers this launcher added through the admin API (id → url); only these are ever deleted by it.</summary>
    [JsonPropertyName("registeredServers")]
    public Dictionary<string, string> RegisteredServers { get; set; } = [];
}

/// <summary>
/// The layout of a state directory: <c>postgres/</c>, <c>redis/</c>, <c>logs/</c>, <c>pids/</c>, <c>recordings/</c>,
/// <c>secret</c>, <c>state.json</c>, <c>simulators.json</c>, <c>endpoints.json</c>, <c>apphost.pid</c>.
/// </summary>
public sealed class StateDirectory
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public StateDirectory(string path)
    {
        Root = Path.GetFullPath(path);
    }

    public string Root { get; }

    /// <summary>
    /// PostgreSQL's data directory: <c>STATE/postgres/data</c>, unless PostgreSQL (which refuses root and so runs
    /// as user <c>postgres</c>) could not reach it, as with a checkout under <c>/root</c>. Then the data lives in
    /// <c>/var/lib/scalelite-apphost/&lt;hash of the state path&gt;/</c>, stable across runs, so the run command
    /// works from any checkout.
    /// </summary>
    public string PostgresData => _postgresData ??= ChoosePostgresData();

    private string? _postgresData;

    /// <summary>PostgreSQL's own log: in <c>STATE/logs</c>, or beside its data when that had to move (see <see cref="PostgresData"/>).</summary>
    public string PostgresLog => PostgresData.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        ? LogFile("postgres")
        : Path.Combine(Path.GetDirectoryName(PostgresData)!, "postgres.log");

    private string ChoosePostgresData()
    {
        var beside = Path.Combine(Root, "postgres", "data");
        if (!Environment.IsPrivilegedProcess || OthersCanTraverse(Root))
        {
            return beside;
        }

        var key = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Root)))[..16];
        return Path.Combine("/var/lib/scalelite-apphost", key, "data");
    }

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

    public string Redis => Path.Combine(Root, "redis");

    public string Logs => Path.Combine(Root, "logs");

    public string Pids => Path.Combine(Root, "pids");

    public string Recordings => Path.Combine(Root, "recordings");

    public string SimulatorManifest => Path.Combine(Root, "simulators.json");

    public string EndpointsFile => Path.Combine(Root, "endpoints.json");

    public string LogFile(string resource) => Path.Combine(Logs, resource + ".log");

    public string PidFile(string resource) => Path.Combine(Pids, resource + ".pid");

    private string StateFile => Path.Combine(Root, "state.json");

    private string SecretFile => Path.Combine(Root, "secret");

    private string LockFile => Path.Combine(Root, "apphost.pid");

    public void Create()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Logs);
        Directory.CreateDirectory(Pids);
        if (!OperatingSystem.IsWindows())
        {
            // PostgreSQL runs as its own user when we are root: it must be able to traverse to its data directory.
            File.SetUnixFileMode(Root, File.GetUnixFileMode(Root) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }
    }

    /// <summary>
    /// Claims the directory for this process. Fails when another live launcher holds it: two launchers on one state
    /// directory would fight over the same database and ports.
    /// </summary>
    public void Lock()
    {
        if (ProcessUtilities.ReadPidFile(LockFile) is int other && other != Environment.ProcessId && ProcessUtilities.IsAlive(other)
            && ProcessUtilities.CommandLine(other).Contains("Scalelite", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Another launcher (pid {other}) is using {Root}. Stop it, or pass a different --state-dir.");
        }
        File.WriteAllText(LockFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Unlock()
    {
        if (ProcessUtilities.ReadPidFile(LockFile) == Environment.ProcessId)
        {
            File.Delete(LockFile);
        }
    }

    public LauncherState LoadState()
    {
        try
        {
            return File.Exists(StateFile)
                ? JsonSerializer.Deserialize<LauncherState>(File.ReadAllText(StateFile)) ?? new LauncherState()
                : new LauncherState();
        }
        catch (JsonException)
        {
            return new LauncherState();
        }
    }

    public void SaveState(LauncherState state) => WriteAtomically(StateFile, JsonSerializer.Serialize(state, Json));

    /// <summary>The LOADBALANCER_SECRET of this state directory, generated on first use.</summary>
    public string GetOrCreateSecret()
    {
        if (File.Exists(SecretFile))
        {
            var kept = File.ReadAllText(SecretFile).Trim();
            if (kept.Length > 0)
            {
                return kept;
            }
        }
        var secret = NewSecret();
        WriteAtomically(SecretFile, secret + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(SecretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return secret;
    }

    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Writes to a temporary file and renames it into place, so readers never see half a file.</summary>
    public static void WriteAtomically(string path, string content)
    {
        var temporary = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
