using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using Scalelite.BbbSimulator;

namespace Scalelite.Tests.BbbSimulator;

/// <summary>Runs the simulator as the launcher does: a child process, a manifest, SIGTERM.</summary>
public sealed class CommandLineProcessTests
{
    [Fact]
    public async Task Main_ManifestThenSigterm_ServesEveryServerAndExitsCleanly()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var directory = Directory.CreateTempSubdirectory("sim-cli-");
        var manifest = Path.Combine(directory.FullName, "sims.json");
        var dll = Path.ChangeExtension(typeof(BbbSimulatorHost).Assembly.Location, ".dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--count", "2", "--secret", "cli-secret", "--manifest", manifest },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!File.Exists(manifest))
            {
                if (process.HasExited)
                {
                    Assert.Fail("The simulator exited early: " + await process.StandardError.ReadToEndAsync());
                }

                Assert.True(DateTime.UtcNow < deadline, "No manifest before the deadline.");
                await Task.Delay(20);
            }

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(manifest));
            var sims = json.RootElement.GetProperty("simulators").EnumerateArray().ToList();
            Assert.Equal(["sim-1", "sim-2"], sims.Select(s => s.GetProperty("id").GetString()));
            using var http = new HttpClient();
            foreach (var sim in sims)
            {
                Assert.Equal("cli-secret", sim.GetProperty("secret").GetString());
                var xml = XDocument.Parse(await http.GetStringAsync(new Uri(sim.GetProperty("url").GetString()!))).Root!;
                Assert.Equal("SUCCESS", xml.Element("returncode")?.Value);
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var exitWait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(exitWait.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("sim-2 http://127.0.0.1:", await process.StandardOutput.ReadToEndAsync(), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            directory.Delete(recursive: true);
        }
    }
}
