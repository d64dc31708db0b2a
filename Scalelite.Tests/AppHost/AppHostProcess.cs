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
