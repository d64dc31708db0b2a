using System.Runtime.CompilerServices;
using System.Text.Json;
using Scalelite.AppHost;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.AppHost;

/// <summary>
/// The real topology with python stand-ins for the simulator and the services, so the launcher's own behaviour
/// (order, environment, registration, shutdown) is tested without depending on the other projects' progress.
/// </summary>
internal static class StubTopology
{
    public static string Script([CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Stubs", "stub_service.py");

    public static string NewStateDirectory() => Path.Combine(TestInfrastructure.RunDirectory, $"apphost-{Guid.NewGuid():N}"[..16]);

    public static AppHostOptions Options(string stateDirectory, int simulators) => new()
    {
        StateDirectory = stateDirectory,
        Simulators = simulators,
        StartupTimeout = TimeSpan.FromSeconds(30),
        MonitorInterval = TimeSpan.FromMilliseconds(200),
        Environment = new Dictionary<string, string> { ["POLL_INTERVAL"] = "7" },
        CommandOverrides = new Dictionary<string, CommandSpec>
        {
            ["simulators"] = new("python3", [Script(), "simulator"]),
            ["api"] = new("python3", [Script(), "service", "api"]),
            ["poller"] = new("python3", [Script(), "service", "poller"]),
            ["recordingsync"] = new("python3", [Script(), "service", "recordingsync"]),
        },
    };

    public static Dictionary<string, string> ReceivedEnvironment(string stateDirectory, string service) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(stateDirectory, $"stub-env-{service}.json")))!;

    /// <summary>Pids of the processes the launcher recorded, plus PostgreSQL's and Redis's.</summary>
    public static List<int> RecordedProcesses(string stateDirectory)
    {
        var pids = Directory.EnumerateFiles(Path.Combine(stateDirectory, "pids"), "*.pid")
            .Select(file => int.Parse(File.ReadLines(file).First(), System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        foreach (var file in new[] { Path.Combine(stateDirectory, "postgres", "data", "postmaster.pid"), Path.Combine(stateDirectory, "redis", "redis.pid") })
        {
            if (Scalelite.AppHost.Resources.ProcessUtilities.ReadPidFile(file) is int pid)
            {
                pids.Add(pid);
            }
        }
        return pids;
    }
}
