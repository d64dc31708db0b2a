using System.Globalization;
using Microsoft.Extensions.Hosting;
using Scalelite.LocalServers;

namespace Scalelite.AppHost;

/// <summary>
/// The processes DCP runs for this AppHost, found through /proc: DCP monitors this process (<c>--monitor PID</c>), its
/// controllers monitor DCP in turn, and the resources run below them.
/// </summary>
public static class OrchestratorExit
{
    private sealed record ProcessEntry(int Pid, int Parent, string CommandLine);

    /// <summary>
    /// DCP runs detached and finishes stopping the resources a moment after the AppHost returns. Scripts take the
    /// AppHost's exit as "everything stopped", so it waits (at most <paramref name="timeout"/>) for DCP to be gone.
    /// </summary>
    public static void Wait(TimeSpan timeout) => WaitForExit(Tree().Select(p => p.Pid), timeout);

    /// <summary>
    /// SIGTERM to each project's own process. DCP stops a project by stopping <c>dotnet run</c>, which does not pass
    /// the signal on: the service would outlive it, holding its connections (and PostgreSQL's shutdown) for seconds.
    /// </summary>
    public static void StopProjects(TimeSpan timeout)
    {
        var tree = Tree();
        var runners = tree.Where(p => p.CommandLine.StartsWith("dotnet\0run\0", StringComparison.Ordinal)).Select(p => p.Pid).ToHashSet();
        var projects = tree.Where(p => runners.Contains(p.Parent)).Select(p => p.Pid).ToList();
        foreach (var pid in projects)
        {
            ProcessUtilities.Terminate(pid);
        }

        WaitForExit(projects, timeout);
    }

    private static void WaitForExit(IEnumerable<int> pids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var pid in pids)
        {
            var left = deadline - DateTime.UtcNow;
            ProcessUtilities.WaitForExitAsync(pid, left > TimeSpan.Zero ? left : TimeSpan.Zero).GetAwaiter().GetResult();
        }
    }

    private static List<ProcessEntry> Tree()
    {
        var processes = Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Select(pid => new ProcessEntry(pid, ReadParent(pid), ReadCommandLine(pid)))
            .ToList();
        var found = new HashSet<int> { Environment.ProcessId };
        for (var grown = true; grown;)
        {
            var more = processes.Where(p => !found.Contains(p.Pid)
                && (found.Contains(p.Parent) || found.Any(f => p.CommandLine.Contains(Monitors(f), StringComparison.Ordinal)))).ToList();
            found.UnionWith(more.Select(p => p.Pid));
            grown = more.Count > 0;
        }

        return processes.Where(p => found.Contains(p.Pid) && p.Pid != Environment.ProcessId).ToList();
    }

    private static string Monitors(int pid) => $"\0--monitor\0{pid.ToString(CultureInfo.InvariantCulture)}\0";

    private static int ReadParent(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}

/// <summary>Stops the projects' own processes when the AppHost stops, before DCP stops the rest (see <see cref="OrchestratorExit.StopProjects"/>).</summary>
public sealed class ProjectShutdown : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.Run(() => OrchestratorExit.StopProjects(TimeSpan.FromSeconds(10)), cancellationToken);
}
