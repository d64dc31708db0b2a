using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Scalelite.Tests.Support;

/// <summary>
/// Services a test runs as processes of their own (<see cref="Repository.ServiceProcess"/>), with their last output
/// kept, so that a wait on what they should do fails at once when they are gone, saying why, instead of at its deadline.
/// </summary>
public static class ServiceProcesses
{
    /// <summary>How many of a process's last output lines a failure shows.</summary>
    private const int TailLines = 20;

    private static readonly ConditionalWeakTable<Process, ConcurrentQueue<string>> Tails = new();

    /// <summary>Starts the process with its output read (and its last lines kept), so that a full pipe never stalls it.</summary>
    /// <param name="onLine">Also given every line of output, for a test that reads what the service logs.</param>
    public static Process Start(ProcessStartInfo start, Action<string>? onLine = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = new Process { StartInfo = start };
        var tail = new ConcurrentQueue<string>();
        Tails.Add(process, tail);
        process.OutputDataReceived += (_, e) => Keep(tail, e.Data, onLine);
        process.ErrorDataReceived += (_, e) => Keep(tail, e.Data, onLine);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Throws when every one of <paramref name="workers"/> has exited: nothing is left to make the awaited condition
    /// true. The message names each with its exit code and last output lines.
    /// </summary>
    public static void ThrowIfAllExited(IReadOnlyCollection<Process> workers, string because)
    {
        if (workers.Count == 0 || !workers.All(p => p.HasExited))
        {
            return;
        }

        throw new InvalidOperationException(
            $"Every service process exited while waiting until {because}:" +
            string.Concat(workers.Select(p => $"{Environment.NewLine}--- {Name(p)} exited with code {p.ExitCode}; last lines ---{Environment.NewLine}{LastLines(p)}")));
    }

    private static string Name(Process process) =>
        process.StartInfo.ArgumentList.Count > 0 ? Path.GetFileNameWithoutExtension(process.StartInfo.ArgumentList[0]) : process.StartInfo.FileName;

    private static string LastLines(Process process) =>
        Tails.TryGetValue(process, out var tail) && !tail.IsEmpty ? string.Join(Environment.NewLine, tail) : "(no output)";

    private static void Keep(ConcurrentQueue<string> tail, string? line, Action<string>? onLine)
    {
        if (line is null)
        {
            return;
        }

        onLine?.Invoke(line);
        tail.Enqueue(line);
        while (tail.Count > TailLines)
        {
            tail.TryDequeue(out _);
        }
    }
}
