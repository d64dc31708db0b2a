using System.Diagnostics;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>The third-party BBB client scripts in <c>lms-client/</c> (bigbluebutton-js on node), run as an LMS would run them.</summary>
internal static class LmsClients
{
    public static string Directory => Repository.Path("Scalelite.Tests", "EndToEnd", "lms-client");

    /// <summary>Whether node and npm are here; tests skip the third-party client check without them.</summary>
    public static bool Available => CanRun("node", "--version") && CanRun("npm", "--version");

    /// <summary>Installs the client library once (npm ci), then runs <c>node SCRIPT ARGS</c>.</summary>
    public static async Task<(int Code, string Output)> RunNodeAsync(string script, params string[] args)
    {
        if (!System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "bigbluebutton-js")))
        {
            var (code, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Directory);
            Assert.True(code == 0, output);
        }

        return await RunAsync("node", [script, .. args], Directory);
    }

    private static bool CanRun(string file, string args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true });
            process!.WaitForExit(10_000);
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string directory)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
