using System.Diagnostics;
using System.Reflection;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.AppHost;

/// <summary>The built AppHost run as its own process (<c>dotnet Scalelite.AppHost.dll ...</c>), as scripts and benchmarks run it.</summary>
internal static class AppHostProcess
{
    public static string Dll { get; } = Repository.Path(
        "Scalelite.AppHost", "bin",
        typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug",
        "net10.0", "Scalelite.AppHost.dll");

    /// <summary>Starts the AppHost; every line it prints (stdout and stderr) goes to <paramref name="onLine"/>.</summary>
    public static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, Action<string> onLine)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Forward(e.Data);
        process.ErrorDataReceived += (_, e) => Forward(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;

        void Forward(string? line)
        {
            if (line is not null)
            {
                onLine(line);
            }
        }
    }

    /// <summary>
    /// Waits for <paramref name="line"/> (a line the AppHost prints); fails at once, with the last of
    /// <paramref name="output"/>, when the AppHost exits first, rather than waiting out <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string> WaitForLineAsync(Process process, Task<string> line, TimeSpan timeout, IEnumerable<string> output)
    {
        using var limit = new CancellationTokenSource(timeout);
        var exited = process.WaitForExitAsync(limit.Token);
        if (await Task.WhenAny(line, exited) == line)
        {
            return await line;
        }

        try
        {
            await exited;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new TimeoutException($"The AppHost printed no such line within {timeout}:{Tail(output)}");
        }

        throw new InvalidOperationException($"The AppHost exited with code {process.ExitCode} before printing the line awaited:{Tail(output)}");
    }

    private static string Tail(IEnumerable<string> output) =>
        Environment.NewLine + string.Join(Environment.NewLine, output.TakeLast(20));

    /// <summary>Runs the AppHost to its end (publishing, --help); returns its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunToEndAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = Start(args, new Dictionary<string, string>(), output.Enqueue);
        using var limit = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, string.Join('\n', output));
    }
}
