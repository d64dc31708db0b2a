using System.Diagnostics;
using Scalelite.AppHost;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// The whole system as <c>dotnet run --project Scalelite.AppHost</c> starts it (the same topology declaration),
/// driven over HTTP by a third-party BBB client library as an LMS would.
/// </summary>
[Collection(Scalelite.Tests.Support.TopologyCollection.Name)]
public sealed class TopologyTests : IAsyncLifetime
{
    private DistributedApplication _app = null!;
    private TimeSpan _readyAfter;

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        _app = ScaleliteTopology.Build(new AppHostOptions
        {
            StateDirectory = Path.Combine(TestInfrastructure.RunDirectory, $"e2e-{Guid.NewGuid():N}"),
            Simulators = 3,
            Environment = new Dictionary<string, string> { ["POLL_INTERVAL"] = "1" },
        });
        await _app.StartAsync();
        await _app.WaitForSimulatorsOnlineAsync(TimeSpan.FromSeconds(30));
        _readyAfter = watch.Elapsed;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [SkippableFact]
    public async Task ThirdPartyClient_MeetingFlow_WorksWithSha1AndSha256()
    {
        Assert.True(_readyAfter < TimeSpan.FromSeconds(30), $"3 simulators online after {_readyAfter}");
        var endpoints = _app.Endpoints!;
        Assert.Equal(3, endpoints.Simulators.Count);

        var client = Repository.Path("Scalelite.Tests", "EndToEnd", "lms-client");
        Skip.If(!CanRun("node", "--version") || !CanRun("npm", "--version"), "node and npm are needed for the third-party client check");
        if (!Directory.Exists(Path.Combine(client, "node_modules", "bigbluebutton-js")))
        {
            var (code, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], client);
            Assert.True(code == 0, output);
        }

        var baseUrl = endpoints.Api.Url[..^"/api".Length];
        var owners = new HashSet<string>();
        foreach (var algorithm in new[] { "sha1", "sha256" })
        {
            var (code, output) = await RunAsync("node", ["lms-flow.js", baseUrl, endpoints.Api.Secret, algorithm, $"lms-{algorithm}"], client);
            Assert.True(code == 0, output);
            Assert.Contains($"ok {algorithm}", output, StringComparison.Ordinal);
            owners.Add(output.Trim().Split("join->")[1]);
        }

        // Each join went to one of the pool's simulators, not to the API itself.
        Assert.All(owners, host => Assert.Contains(endpoints.Simulators, s => new Uri(s.Url).Authority == host));
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
