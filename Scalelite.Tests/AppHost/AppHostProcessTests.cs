using System.Collections.Concurrent;
using Scalelite.AppHost;
using Scalelite.LocalServers;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.AppHost;

/// <summary>
/// The AppHost as a user or a script starts it: the dashboard's login URL and the Ready line printed, endpoints.json
/// written, the environment passed on to the services, and SIGTERM leaving no process behind, DCP's and the dashboard's included.
/// </summary>
[Collection(AppHostProcessCollection.Name)]
public sealed class AppHostProcessTests
{
    [Fact]
    public async Task Run_UntilSigterm_ReportsReadyWithDashboardAndStopsEveryProcess()
    {
        var state = Path.Combine(TestInfrastructure.RunDirectory, $"apphost-{Guid.NewGuid():N}"[..16]);
        var lines = new ConcurrentQueue<string>();
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = AppHostProcess.Start(
            ["--state-dir", state, "--simulators", "1"],
            new Dictionary<string, string> { ["POLL_INTERVAL"] = "1", ["SCALELITE_TEST_MARKER"] = state },
            line =>
            {
                lines.Enqueue(line);
                if (line.StartsWith("Ready:", StringComparison.Ordinal))
                {
                    ready.TrySetResult(line);
                }
            });
        try
        {
            var readyLine = await AppHostProcess.WaitForLineAsync(process, ready.Task, TimeSpan.FromMinutes(3), lines);
            Assert.Matches(@"^Ready: 1/1 simulators online\. API http://127\.0\.0\.1:\d+/bigbluebutton/api secret [0-9a-f]{64}$", readyLine);
            var endpoints = ScaleliteEndpoints.Read(Path.Combine(state, "endpoints.json"))!;
            Assert.StartsWith(endpoints.Api.Url, readyLine["Ready: 1/1 simulators online. API ".Length..], StringComparison.Ordinal);
            Assert.NotNull(endpoints.Dashboard);
            Assert.Contains(lines, line => line.Contains("Login to the dashboard at " + endpoints.Dashboard.Url, StringComparison.Ordinal));
            using (var http = new HttpClient())
            {
                // The login URL signs the browser in and lands on the resource page.
                using var page = await http.GetAsync(new Uri(endpoints.Dashboard.Url));
                Assert.True(page.IsSuccessStatusCode, $"the dashboard answered {(int)page.StatusCode}");
            }

            var processes = ProcessTree.OfAppHost(process.Id);
            Assert.Contains(processes, p => p.CommandLine.Contains("/dcp ", StringComparison.Ordinal));
            Assert.Contains(processes, p => p.CommandLine.Contains("Aspire.Dashboard", StringComparison.Ordinal));
            var poller = processes.Single(p => p.CommandLine.Contains("Scalelite.Poller/bin/", StringComparison.Ordinal) && !p.CommandLine.StartsWith("dotnet run", StringComparison.Ordinal));
            // The AppHost's environment reaches the services (its own settings win over the local defaults).
            Assert.Equal("1", poller.Environment()["POLL_INTERVAL"]);
            Assert.Equal(state, poller.Environment()["SCALELITE_TEST_MARKER"]);

            Assert.True(ProcessUtilities.Terminate(process.Id));
            using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
            {
                await process.WaitForExitAsync(limit.Token);
            }

            Assert.Equal(0, process.ExitCode);
            Assert.All(processes, p => Assert.False(ProcessUtilities.IsAlive(p.Pid), $"{p.Pid} ({p.CommandLine}) still runs"));
            Assert.False(File.Exists(Path.Combine(state, "endpoints.json")));
        }
        finally
        {
            if (!process.HasExited)
            {
                ProcessUtilities.Terminate(process.Id);
                await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            }
        }
    }

    [Fact]
    public async Task Run_WrongFlag_ExitsWithTwoAndSaysWhy()
    {
        var (code, output) = await AppHostProcess.RunToEndAsync(["--simulators", "many"], TimeSpan.FromMinutes(1));

        Assert.Equal(2, code);
        Assert.Contains("--simulators expects a number", output, StringComparison.Ordinal);
    }
}
