using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// Monitoring in the running topology: /metrics on every service, behind the operator token, and the Grafana dashboard
/// asking only for metrics the services really serve.
/// </summary>
[Collection(TopologyCollection.Name)]
public sealed partial class MonitoringTopologyTests(ScaleliteAppFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private IEnumerable<(string Service, string Url)> MetricsUrls()
    {
        var metrics = fixture.Endpoints.Metrics;
        Assert.NotNull(metrics);
        return [("api", metrics.Api), ("poller", metrics.Poller), ("recordingsync", metrics.RecordingSync)];
    }

    private static async Task<HttpResponseMessage> ScrapeAsync(HttpClient http, string url, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await http.SendAsync(request);
    }

    [Fact]
    public async Task Metrics_EveryService_ServedWithTheOperatorTokenAndRefusedAnonymously()
    {
        using var http = new HttpClient();
        var endpoints = fixture.Endpoints;
        Assert.Equal(new Uri(endpoints.Api.Url).Authority, new Uri(endpoints.Metrics!.Api).Authority);
        foreach (var (service, url) in MetricsUrls())
        {
            using var anonymous = await ScrapeAsync(http, url, token: null);
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{service}: anonymous scrape answered {anonymous.StatusCode}");

            using var scraped = await ScrapeAsync(http, url, endpoints.Api.Secret);
            Assert.True(scraped.StatusCode == HttpStatusCode.OK, $"{service}: scrape answered {scraped.StatusCode}");
            var samples = PrometheusText.Parse(await scraped.Content.ReadAsStringAsync());
            Assert.Contains(samples, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GrafanaDashboard_EveryMetricItQueries_IsServedByTheTopology()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Repository.Path("deploy", "grafana", "scalelite.json")));
        var queried = Expressions(dashboard.RootElement).SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("scalelite_api_join_outcomes_total", queried);

        var endpoints = fixture.Endpoints;
        using var client = new BbbTestClient(endpoints.Api.Url, endpoints.Api.Secret);
        await DeclareCapacityAsync(client, endpoints.Api.Url, endpoints.Api.Secret, 1000);
        try
        {
            // What the dashboard shows happens once: a recorded meeting with a callback, a join, a failed join, its recording.
            XmlAssert.Success(await client.CreateAsync("monitored-class", ("record", "true"), ("meta_bbb-recording-ready-url", "http://127.0.0.1:9/ready")));
            using (await client.JoinAsync("monitored-class"))
            using (await client.JoinAsync("no-such-class"))
            {
            }

            foreach (var sim in endpoints.Simulators)
            {
                using var _ = await client.Http.PostAsync($"{sim.Control}/recordings/monitored-class", null);
            }

            var missing = queried.ToHashSet(StringComparer.Ordinal);
            try
            {
                await Eventually.TrueAsync(async () =>
                {
                    foreach (var (_, url) in MetricsUrls())
                    {
                        using var scraped = await ScrapeAsync(client.Http, url, endpoints.Api.Secret);
                        missing.ExceptWith(PrometheusText.Parse(await scraped.Content.ReadAsStringAsync()).Select(s => s.Name));
                    }

                    return missing.Count == 0;
                }, Deadline, "every metric the dashboard queries is served");
            }
            catch (Xunit.Sdk.FailException e)
            {
                // The names still missing when the deadline passed, not those missing before the first scrape.
                Assert.Fail(e.Message + " Still missing: " + string.Join(", ", missing.Order(StringComparer.Ordinal)));
            }
        }
        finally
        {
            await DeclareCapacityAsync(client, endpoints.Api.Url, endpoints.Api.Secret, null);
        }
    }

    /// <summary>Every <c>expr</c> of every panel, rows' nested panels included.</summary>
    private static IEnumerable<string> Expressions(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        yield return property.Value.GetString()!;
                    }
                    else
                    {
                        foreach (var e in Expressions(property.Value))
                        {
                            yield return e;
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var e in element.EnumerateArray().SelectMany(Expressions))
                {
                    yield return e;
                }

                break;
        }
    }

    /// <summary>Capacity on every server, so that the utilization and capacity gauges exist; null clears it.</summary>
    private static async Task DeclareCapacityAsync(BbbTestClient client, string apiUrl, string secret, int? capacity)
    {
        var root = apiUrl.Replace("/bigbluebutton/api", "/api/v1/servers", StringComparison.Ordinal);
        using var list = new HttpRequestMessage(HttpMethod.Get, root);
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var servers = await client.Http.SendAsync(list);
        foreach (var server in (await servers.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray())
        {
            using var patch = new HttpRequestMessage(HttpMethod.Patch, $"{root}/{server.GetProperty("id").GetString()}")
            {
                Content = JsonContent.Create(capacity is { } c ? new { capacity = c } : (object)new { clearCapacity = true }),
            };
            patch.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            using var response = await client.Http.SendAsync(patch);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [GeneratedRegex(@"\b(?:scalelite|dotnet)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
