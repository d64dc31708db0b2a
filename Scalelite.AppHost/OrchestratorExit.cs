using System.Globalization;
using Scalelite.LocalServers;

namespace Scalelite.AppHost;

/// <summary>
/// DCP runs detached and finishes stopping the resources a moment after the AppHost returns. Scripts take the
/// AppHost's exit as "everything stopped", so it waits for DCP to be gone first.
/// </summary>
public static class OrchestratorExit
{
    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) for DCP to be gone: the process that monitors this one, and every
    /// process below it (its controllers, which monitor it in turn, and whatever they still run).
    /// </summary>
    public static void Wait(TimeSpan timeout)
    {
        var processes = Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Select(pid => (Pid: pid, Parent: ReadParent(pid), CommandLine: ReadCommandLine(pid)))
            .ToList();
        var watched = new HashSet<int> { Environment.ProcessId };
        for (var grown = true; grown;)
        {
            var more = processes.Where(p => !watched.Contains(p.Pid) && (watched.Contains(p.Parent) || watched.Any(w => p.CommandLine.Contains(Monitors(w), StringComparison.Ordinal)))).ToList();
            watched.UnionWith(more.Select(p => p.Pid));
            grown = more.Count > 0;
        }

        watched.Remove(Environment.ProcessId);
        var deadline = DateTime.UtcNow + timeout;
        foreach (var pid in watched)
        {
            var left = deadline - DateTime.UtcNow;
            ProcessUtilities.WaitForExitAsync(pid, left > TimeSpan.Zero ? left : TimeSpan.Zero).GetAwaiter().GetResult();
        }
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
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
