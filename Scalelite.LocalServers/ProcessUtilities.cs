using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Scalelite.LocalServers;

/// <summary>Small process helpers for Linux: liveness via /proc, signals, stale pid files.</summary>
public static partial class ProcessUtilities
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;

    /// <summary>True when the process exists and is not a zombie waiting to be reaped.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Format: "pid (comm) S ...": the state follows the last ')'.
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The process's command line (arguments joined by spaces), or "" when it is gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
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

    /// <summary>Reads the first line of a pid file; null when missing or malformed.</summary>
    public static int? ReadPidFile(string path)
    {
        try
        {
            var first = File.ReadLines(path).FirstOrDefault();
            return int.TryParse(first?.Trim(), out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Sends SIGTERM so the process can shut down cleanly.</summary>
    public static bool Terminate(int pid) => pid > 0 && Kill(pid, SigTerm) == 0;

    /// <summary>Sends SIGSTOP: the process freezes, its sockets stay open and nothing answers (a hung server).</summary>
    public static bool Suspend(int pid) => pid > 0 && Kill(pid, SigStop) == 0;

    /// <summary>Sends SIGCONT to a process <see cref="Suspend"/> froze.</summary>
    public static bool Resume(int pid) => pid > 0 && Kill(pid, SigCont) == 0;

    /// <summary>
    /// SIGTERM, wait up to <paramref name="grace"/>, then SIGKILL. Returns true when the process is gone.
    /// </summary>
    public static async Task<bool> TerminateAsync(int pid, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        if (!IsAlive(pid))
        {
            return true;
        }
        Terminate(pid);
        if (await WaitForExitAsync(pid, grace, cancellationToken))
        {
            return true;
        }
        _ = Kill(pid, SigKill);
        return await WaitForExitAsync(pid, TimeSpan.FromSeconds(5), cancellationToken);
    }

    /// <summary>Polls until the process is gone or the time is up.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        while (IsAlive(pid))
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }
            await Task.Delay(50, cancellationToken);
        }
        return true;
    }

    /// <summary>Kills the process and its children; never throws.</summary>
    public static void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
