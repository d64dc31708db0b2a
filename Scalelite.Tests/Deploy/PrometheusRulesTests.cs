using System.Diagnostics;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Deploy;

/// <summary>
/// The shipped Prometheus alerting rules: valid for promtool, and each one firing on the series its fault produces
/// (deploy/prometheus/scalelite-alerts.test.yml). promtool comes with Debian's prometheus package (eng/prerequisites.sh).
/// </summary>
public class PrometheusRulesTests
{
    private static readonly string RulesDirectory = Repository.Path("deploy", "prometheus");

    [Fact]
    public async Task AlertRules_PromtoolCheckRules_Succeeds()
    {
        var (exit, output) = await PromtoolAsync("check", "rules", "scalelite-alerts.yml");
        Assert.True(exit == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertRules_PromtoolTestRules_EveryRuleFiresOnItsFault()
    {
        var (exit, output) = await PromtoolAsync("test", "rules", "scalelite-alerts.test.yml");
        Assert.True(exit == 0, output);
    }

    private static async Task<(int Exit, string Output)> PromtoolAsync(params string[] arguments)
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        Assert.True(promtool is not null, "promtool is missing: run eng/prerequisites.sh (Debian's prometheus package) or ./test.sh");
        var info = new ProcessStartInfo(promtool, arguments) { WorkingDirectory = RulesDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
