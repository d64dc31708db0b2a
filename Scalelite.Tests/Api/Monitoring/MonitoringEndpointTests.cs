using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Scalelite.BbbSimulator;
using Scalelite.Cli;
using Scalelite.Core.Monitoring;
using Scalelite.Tests.Cli;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Poller.Monitoring;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Monitoring;

/// <summary>Where operators see the alerts and the metrics: the operator API, the CLI and <c>/metrics</c>, each behind the operator token.</summary>
[Collection(MetricsCollection.Name)]
public sealed class MonitoringEndpointTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // Slow-store warnings are not what these tests look at; a busy test machine must not raise them.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Poller:Interval"] = "1", ["Alerts:ClearAfter"] = "0", ["Alerts:PostgresSlow"] = "60", ["Alerts:RedisSlow"] = "60",
    };

    private static string Root(PoolHarness pool) => new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority);

    private static HttpRequestMessage Get(PoolHarness pool, string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Root(pool) + path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    [Fact]
    public async Task Alerts_ServerOffline_ListedWithSubjectSinceValueAndThreshold()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings);
        var id = pool.ServerIds[0];
        pool.Simulator(id).SetFault(FaultMode.Down);
        await PoolAlertTests.RaisedAsync(pool, AlertIds.ServerOffline, AlertIds.Server(id), poll: true);

        using var response = await pool.Client.Http.SendAsync(Get(pool, "/api/v1/alerts", PoolHarness.Secret));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("evaluatedSecondsAgo").GetDouble() >= 0);
        var alert = Assert.Single(json.RootElement.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("alert").GetString() == AlertIds.ServerOffline);
        Assert.Equal(AlertIds.Server(id), alert.GetProperty("subject").GetString());
        Assert.Equal("warning", alert.GetProperty("severity").GetString());
        Assert.Equal(2, alert.GetProperty("threshold").GetDouble());
        Assert.True(alert.GetProperty("since").GetDateTimeOffset() <= DateTimeOffset.UtcNow);
        Assert.False(string.IsNullOrWhiteSpace(alert.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Alerts_Anonymous_Refused()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings);
        using var response = await pool.Client.Http.SendAsync(Get(pool, "/api/v1/alerts", token: null));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_OnTheLmsFacingListener_RefusedAnonymouslyAndWithAWrongToken_ServedWithTheOperatorToken()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings);
        XmlAssert.Success(await pool.Client.CallAsync("getMeetings"));

        using var anonymous = await pool.Client.Http.SendAsync(Get(pool, "/metrics", token: null));
        using var wrong = await pool.Client.Http.SendAsync(Get(pool, "/metrics", token: "not-the-secret"));
        using var served = await pool.Client.Http.SendAsync(Get(pool, "/metrics", PoolHarness.Secret));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.DoesNotContain("scalelite_", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var samples = PrometheusText.Parse(await served.Content.ReadAsStringAsync());
        Assert.Equal(1, samples.Value("scalelite_api_calls_total", ("call", "getMeetings")));
    }

    [Fact]
    public async Task Metrics_JoinOutcomesAndFailuresByCallAndMessageKey()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings);
        XmlAssert.Success(await pool.Client.CreateAsync("m-metrics"));
        using (var redirected = await pool.Client.JoinAsync("m-metrics"))
        {
            Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        }

        using (await pool.Client.JoinAsync("m-missing"))
        {
        }

        using var served = await pool.Client.Http.SendAsync(Get(pool, "/metrics", PoolHarness.Secret));
        var samples = PrometheusText.Parse(await served.Content.ReadAsStringAsync());

        Assert.Equal(1, samples.Value("scalelite_api_join_outcomes_total", ("outcome", "redirected")));
        Assert.Equal(1, samples.Value("scalelite_api_join_outcomes_total", ("outcome", "notFound")));
        Assert.Equal(0, samples.Value("scalelite_api_join_outcomes_total", ("outcome", "answered")));
        Assert.Equal(1, samples.Value("scalelite_api_failures_total", ("call", "join"), ("messageKey", "notFound")));
        Assert.True(samples.Value("scalelite_api_creates_placed_total", ("server", pool.ServerIds[0])) >= 1);
    }

    [Fact]
    public async Task Cli_AlertsAndStatusHeader_ShowTheActiveAlert()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings);
        var (quietExit, quiet, _) = await CliRunner.RunAsync("alerts", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.Equal(CliApp.Ok, quietExit);
        Assert.True(quiet.Contains("No active alerts", StringComparison.Ordinal), quiet);

        var id = pool.ServerIds[1];
        pool.Simulator(id).SetFault(FaultMode.Error);
        await PoolAlertTests.RaisedAsync(pool, AlertIds.ServerOffline, AlertIds.Server(id), poll: true);

        var (exit, output, _) = await CliRunner.RunAsync("alerts", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains(AlertIds.ServerOffline, output, StringComparison.Ordinal);
        Assert.Contains(AlertIds.Server(id), output, StringComparison.Ordinal);

        var (statusExit, status, err) = await CliRunner.RunAsync("servers", "status", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.True(statusExit == CliApp.Ok, err);
        var header = status[..status.IndexOf("HOSTNAME", StringComparison.Ordinal)];
        Assert.StartsWith("Alerts: ", header, StringComparison.Ordinal);
        Assert.Contains(" active (evaluated ", header, StringComparison.Ordinal);
        Assert.Contains($"server-offline server:{id}", header, StringComparison.Ordinal);
    }
}
