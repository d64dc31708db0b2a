namespace Scalelite.AppHost.Resources;

/// <summary>
/// Finds the PostgreSQL and Redis programs, installing Redis with apt-get when it is missing (a fresh machine has
/// PostgreSQL but not Redis). The launcher and the test fixtures both come through here.
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
    public static async Task<string> EnsureRedisServerAsync(Action<string>? report, CancellationToken cancellationToken)
    {
        if (FindOnPath("redis-server") is string found)
        {
            return found;
        }

        await InstallGate.WaitAsync(cancellationToken);
        try
        {
            if (FindOnPath("redis-server") is string installedMeanwhile)
            {
                return installedMeanwhile;
            }

            report?.Invoke("redis-server is not installed; installing it with apt-get (about 10 s) ...");
            var sudo = Environment.IsPrivilegedProcess ? null : "sudo";
            var environment = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
            var update = await RunAsRootAsync(sudo, ["apt-get", "update", "-qq"], environment, cancellationToken);
            var install = update.Succeeded
                ? await RunAsRootAsync(sudo, ["apt-get", "install", "-y", "-qq", "redis-server"], environment, cancellationToken)
                : update;
            if (!install.Succeeded || FindOnPath("redis-server") is not string path)
            {
                throw new InvalidOperationException(
                    "redis-server is missing and could not be installed automatically " +
                    $"({(sudo is null ? "" : "sudo ")}apt-get install -y redis-server failed with exit code {install.ExitCode}). " +
                    $"Install Redis yourself and run again.{Environment.NewLine}{install.Output}");
            }
            report?.Invoke($"Installed redis-server ({path}).");
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
