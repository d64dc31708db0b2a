using System.Diagnostics;
using System.Text;

namespace Scalelite.LocalServers;

/// <summary>The outcome of a short-lived command.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Both streams, for error messages.</summary>
    public string Output => (StandardOutput.TrimEnd() + Environment.NewLine + StandardError.TrimEnd()).Trim();
}

/// <summary>Runs short-lived helper programs (initdb, pg_ctl, psql, redis-cli, apt-get) to completion.</summary>
public static class CommandRunner
{
    /// <summary>
    /// Runs <paramref name="fileName"/> and captures its output. When <paramref name="runAsUser"/> is given and we are
    /// root, the command runs through <c>runuser -u USER --</c> (PostgreSQL refuses to run as root).
    /// </summary>
    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        CancellationToken cancellationToken,
        string? runAsUser = null,
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var startInfo = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // A directory every user can enter: the caller's directory may be closed to 'postgres'.
            WorkingDirectory = "/",
        };
        if (runAsUser is not null && Environment.IsPrivilegedProcess)
        {
            startInfo.FileName = "runuser";
            startInfo.ArgumentList.Add("-u");
            startInfo.ArgumentList.Add(runAsUser);
            startInfo.ArgumentList.Add("--");
            startInfo.ArgumentList.Add(fileName);
        }
        else
        {
            startInfo.FileName = fileName;
        }
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new CommandResult(127, "", $"Could not start {startInfo.FileName}: {ex.Message}");
        }
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            ProcessUtilities.TryKill(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new TimeoutException($"{Describe(startInfo)} did not finish within {timeout ?? TimeSpan.FromMinutes(2)}.");
        }

        // A daemon started by the command may keep the pipes open; do not wait for it.
        var output = await ReadOrEmpty(stdout);
        var error = await ReadOrEmpty(stderr);
        return new CommandResult(process.ExitCode, output, error);
    }

    /// <summary>Like <see cref="RunAsync"/>, but throws with the command's output when it fails.</summary>
    public static async Task<CommandResult> RunCheckedAsync(
        string fileName,
        IEnumerable<string> arguments,
        CancellationToken cancellationToken,
        string? runAsUser = null,
        TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var result = await RunAsync(fileName, list, cancellationToken, runAsUser, timeout);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"'{fileName} {string.Join(' ', list)}' failed with exit code {result.ExitCode}:{Environment.NewLine}{result.Output}");
        }
        return result;
    }

    private static async Task<string> ReadOrEmpty(Task<string> read)
    {
        try
        {
            return await read.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            return "";
        }
    }

    private static string Describe(ProcessStartInfo startInfo)
    {
        var builder = new StringBuilder(startInfo.FileName);
        foreach (var argument in startInfo.ArgumentList)
        {
            builder.Append(' ').Append(argument);
        }
        return builder.ToString();
    }
}
