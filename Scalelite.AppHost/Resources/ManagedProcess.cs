using System.Diagnostics;
using System.Globalization;

namespace Scalelite.AppHost.Resources;

/// <summary>
/// A long-running child process whose output goes to a log file (appended, one timestamped line per output line)
/// and whose pid is recorded, so that a later run can stop it if this one is killed before it could.
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logGate = new();
    private readonly string _pidFile;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;

    private ManagedProcess(string name, Process process, StreamWriter log, string pidFile)
    {
        Name = name;
        _process = process;
        _log = log;
        _pidFile = pidFile;
    }

    public string Name { get; }

    public int ProcessId { get; private set; }

    /// <summary>Completes with the exit code when the process ends, whether asked to or not.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>True once <see cref="StopAsync"/> was called: an exit after that is expected.</summary>
    public bool StopRequested => _stopping;

    /// <summary>
    /// Starts <paramref name="fileName"/> with the launcher's environment plus <paramref name="environment"/>
    /// (a null value removes a variable).
    /// </summary>
    public static ManagedProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        string workingDirectory,
        string logFile,
        string pidFile)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        Directory.CreateDirectory(Path.GetDirectoryName(pidFile)!);
        var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var managed = new ManagedProcess(name, process, log, pidFile);
        managed.WriteLog("launcher", $"starting {fileName} {string.Join(' ', startInfo.ArgumentList)}");
        process.OutputDataReceived += (_, e) => managed.WriteLog("out", e.Data);
        process.ErrorDataReceived += (_, e) => managed.WriteLog("err", e.Data);
        process.Exited += (_, _) => managed.OnExited();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            managed.WriteLog("launcher", $"could not start: {ex.Message}");
            log.Dispose();
            process.Dispose();
            throw new InvalidOperationException($"Could not start {name} ({fileName}): {ex.Message}", ex);
        }
        managed.ProcessId = process.Id;
        // Closing stdin: the services must not wait for console input.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // The first argument (the dll) tells this process apart from an unrelated one that later gets the same pid.
        File.WriteAllText(pidFile, $"{process.Id}\n{startInfo.ArgumentList.FirstOrDefault() ?? fileName}\n");
        return managed;
    }

    /// <summary>
    /// Asks the process to stop (SIGTERM, so ASP.NET Core shuts down cleanly), then kills it and its children
    /// when it has not exited within <paramref name="grace"/>.
    /// </summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _stopping = true;
        if (!_exited.Task.IsCompleted)
        {
            WriteLog("launcher", "stopping");
            ProcessUtilities.Terminate(ProcessId);
            if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) != _exited.Task)
            {
                WriteLog("launcher", $"did not stop within {grace.TotalSeconds:0} s; killing it");
                ProcessUtilities.TryKill(_process);
                await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromSeconds(5)));
            }
        }
        File.Delete(_pidFile);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
        lock (_logGate)
        {
            _log.Dispose();
        }
    }

    /// <summary>
    /// Stops a process recorded in <paramref name="pidFile"/> by a run that was killed, if it is still alive and
    /// still the program recorded there (a recycled pid belongs to someone else).
    /// </summary>
    public static async Task<bool> StopStaleAsync(string pidFile, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(pidFile))
        {
            return false;
        }
        var lines = await File.ReadAllLinesAsync(pidFile, cancellationToken);
        File.Delete(pidFile);
        if (lines.Length < 2 || !int.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !ProcessUtilities.IsAlive(pid))
        {
            return false;
        }
        if (lines[1].Length == 0 || !ProcessUtilities.CommandLine(pid).Contains(lines[1], StringComparison.Ordinal))
        {
            return false;
        }
        return await ProcessUtilities.TerminateAsync(pid, TimeSpan.FromSeconds(10), cancellationToken);
    }

    private void OnExited()
    {
        int code;
        try
        {
            // Let the asynchronous readers drain the last lines before reporting.
            _process.WaitForExit();
            code = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1;
        }
        WriteLog("launcher", $"exited with code {code}");
        _exited.TrySetResult(code);
    }

    private void WriteLog(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_logGate)
        {
            try
            {
                _log.WriteLine($"{DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss.fff} [{stream}] {line}");
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
