using System.Globalization;
using Scalelite.LocalServers;

namespace Scalelite.AppHost;

/// <summary>
/// DCP runs detached and finishes stopping the resources a moment after the AppHost returns. Scripts take the
/// AppHost's exit as "everything stopped", so it waits for DCP to be gone first.
/// </summary>
public static class OrchestratorExit
{
    /// <summary>Waits (at most <paramref name="timeout"/>) for the DCP processes that monitor this process to exit.</summary>
    public static void Wait(TimeSpan timeout)
    {
        var marker = $"\0--monitor\0{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}\0";
        var watched = Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadCommandLine(pid).Contains(marker, StringComparison.Ordinal))
            .ToList();
        foreach (var pid in watched)
        {
            ProcessUtilities.WaitForExitAsync(pid, timeout).GetAwaiter().GetResult();
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
