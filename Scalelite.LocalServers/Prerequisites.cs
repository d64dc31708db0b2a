namespace Scalelite.LocalServers;

/// <summary>
/// Finds the PostgreSQL and Redis programs, installing Redis with apt-get when it is missing (a fresh machine has
/// PostgreSQL but not Redis). The AppHost's local resources and the test fixtures both come through here.
/// </summary>
public static class Prerequisites
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>
    /// The newest <c>/usr/lib/postgresql/*/bin</c> holding initdb, or <c>SCALELITE_POSTGRES_BIN</c> when set.
    /// </summary>
    public static string FindPostgresBinDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("SCALELITE_POSTGRES_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "initdb"))
                ? configured
                : throw new InvalidOperationException($"SCALELITE_POSTGRES_BIN={configured} does not contain initdb.");
        }

        const string root = "/usr/lib/postgresql";
        var newest = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(dir => (dir, version: double.TryParse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(entry => entry.version >= 0 && File.Exists(Path.Combine(entry.dir, "bin", "initdb")))
                .OrderByDescending(entry => entry.version)
                .Select(entry => Path.Combine(entry.dir, "bin"))
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            "PostgreSQL server programs not found under /usr/lib/postgresql/*/bin. " +
            "Install them (apt-get install -y postgresql) or set SCALELITE_POSTGRES_BIN to the directory holding initdb and pg_ctl.");
    }

    /// <summary>
    /// The path of <c>redis-server</c>; installs the Debian package first when it is missing.
    /// </summary>
    /// <param name="report">Receives a line before a slow install starts, so the user knows why we wait.</param>
    public static Task<string> EnsureRedisServerAsync(Action<string>? report, CancellationToken cancellationToken) =>
        EnsureInstalledAsync("redis-server", "redis-server", () => FindOnPath("redis-server"), report, cancellationToken);

    /// <summary>The path of <c>nginx</c> (the load balancer in front of several API replicas); installs it first when it is missing.</summary>
    public static Task<string> EnsureNginxAsync(Action<string>? report, CancellationToken cancellationToken) =>
        EnsureInstalledAsync("nginx", "nginx", () => FindOnPath("nginx"), report, cancellationToken);

    /// <summary>
    /// The directory holding initdb and pg_ctl; installs Debian's <c>postgresql</c> package first when none is found.
    /// </summary>
    public static Task<string> EnsurePostgresBinDirectoryAsync(Action<string>? report, CancellationToken cancellationToken) =>
        Environment.GetEnvironmentVariable("SCALELITE_POSTGRES_BIN") is { Length: > 0 }
            ? Task.FromResult(FindPostgresBinDirectory())
            : EnsureInstalledAsync("PostgreSQL server programs", "postgresql", TryFindPostgresBinDirectory, report, cancellationToken);

    private static string? TryFindPostgresBinDirectory()
    {
        try
        {
            return FindPostgresBinDirectory();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task<string> EnsureInstalledAsync(
        string what, string package, Func<string?> find, Action<string>? report, CancellationToken cancellationToken)
    {
        if (find() is string found)
        {
            return found;
        }

        await InstallGate.WaitAsync(cancellationToken);
        try
        {
            if (find() is string installedMeanwhile)
            {
                return installedMeanwhile;
            }

            report?.Invoke($"{what} not installed; installing the {package} package with apt-get ...");
            var sudo = Environment.IsPrivilegedProcess ? null : "sudo";
            var environment = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
            var update = await RunAsRootAsync(sudo, ["apt-get", "update", "-qq"], environment, cancellationToken);
            var install = update.Succeeded
                ? await RunAsRootAsync(sudo, ["apt-get", "install", "-y", "-qq", package], environment, cancellationToken)
                : update;
            if (find() is not string path)
            {
                throw new InvalidOperationException(
                    $"{what} missing and could not be installed automatically " +
                    $"({(sudo is null ? "" : "sudo ")}apt-get install -y {package} exited with code {install.ExitCode}). " +
                    $"Install it yourself and run again.{Environment.NewLine}{install.Output}");
            }

            report?.Invoke($"Installed {package} ({path}).");
            return path;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>The full path of <paramref name="program"/> on PATH (or in the usual system directories), or null.</summary>
    public static string? FindOnPath(string program)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin"]);
        return directories
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
    }

    private static Task<CommandResult> RunAsRootAsync(
        string? sudo, string[] command, Dictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var fileName = sudo ?? command[0];
        // sudo drops the environment by default, so DEBIAN_FRONTEND goes in as an assignment; -n because
        // there is no terminal to ask for a password on (the error message tells the user what to run instead).
        var arguments = sudo is null ? command[1..] : ["-n", "DEBIAN_FRONTEND=noninteractive", .. command];
        return CommandRunner.RunAsync(fileName, arguments, cancellationToken, timeout: TimeSpan.FromMinutes(5), environment: environment);
    }
}
