using System.Reflection;

namespace Scalelite.AppHost;

/// <summary>A program to run instead of a project's dll (tests use stubs); the launcher's own arguments follow <see cref="Arguments"/>.</summary>
public sealed record CommandSpec(string FileName, IReadOnlyList<string> Arguments);

/// <summary>Everything that varies between two runs of the topology.</summary>
public sealed record AppHostOptions
{
    /// <summary>Where data, logs, ports, the secret and endpoints.json live. Default: <c>.scalelite</c> in the current directory.</summary>
    public string StateDirectory { get; init; } = Path.Combine(System.Environment.CurrentDirectory, ".scalelite");

    /// <summary>Number of simulated BBB servers (0 allowed).</summary>
    public int Simulators { get; init; } = 3;

    /// <summary>The Api's port; null picks a free one (the port of the previous run when it is still free).</summary>
    public int? ApiPort { get; init; }

    /// <summary>LOADBALANCER_SECRET; null uses the one kept in the state directory (generated on first run).</summary>
    public string? Secret { get; init; }

    /// <summary>The repository holding the built projects; defaults to the one this launcher was built from.</summary>
    public string RepositoryRoot { get; init; } = BuildMetadata("Scalelite.RepositoryRoot") ?? System.Environment.CurrentDirectory;

    /// <summary>The build configuration whose outputs are launched (Debug/Release).</summary>
    public string Configuration { get; init; } = BuildMetadata("Scalelite.Configuration") ?? "Debug";

    /// <summary>
    /// Environment given to the services on top of the launcher's own (which they inherit). Tests use this instead of
    /// changing their own process environment.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Per resource name ("simulators", "api", "poller", "recordingsync"): a program to run instead of the built dll.</summary>
    public IReadOnlyDictionary<string, CommandSpec> CommandOverrides { get; init; } = new Dictionary<string, CommandSpec>();

    /// <summary>How long a resource may take to become ready (simulator manifest, Api health).</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How often service health and simulator status are polled.</summary>
    public TimeSpan MonitorInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Receives notices such as "installing redis-server".</summary>
    public Action<string>? Notice { get; init; }

    private static string? BuildMetadata(string key) =>
        typeof(AppHostOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;
}
