using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.Tests.Support;
using Xunit.Abstractions;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// The whole system as <c>dotnet run --project Scalelite.AppHost</c> starts it (the same AppHost, through
/// Aspire.Hosting.Testing): every resource up and healthy, and a third-party BBB client library driving it as an LMS would.
/// </summary>
[Collection(TopologyCollection.Name)]
public sealed class TopologyTests(ScaleliteAppFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Start_WholeTopology_EveryResourceHealthyAndSimulatorsRegistered()
    {
        // How long the start took is reported, not asserted: it depends on what else the machine is doing.
        output.WriteLine($"{ScaleliteAppFixture.Simulators} simulators online, every resource healthy after {fixture.ReadyAfter}");
        // The fixture waited for all of this. Health is probed again every few seconds, and a probe that timed out on
        // a loaded machine since then is made good by the next one, well within this deadline.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var notifications = fixture.App.ResourceNotifications;
        foreach (var name in ScaleliteAppFixture.Resources)
        {
            await notifications.WaitForResourceAsync(name, ScaleliteAppFixture.IsRunningAndHealthy, timeout.Token);
        }

        var registration = await notifications.WaitForResourceAsync("register-simulators", e => e.Snapshot.State?.Text == KnownResourceStates.Finished, timeout.Token);
        Assert.Equal(0, registration.Snapshot.ExitCode);

        var endpoints = fixture.Endpoints;
        Assert.Equal(ScaleliteAppFixture.Simulators, endpoints.Simulators.Count);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/bigbluebutton/api$", endpoints.Api.Url);
        Assert.Equal(endpoints.Api.Url.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal), endpoints.Admin.Url);
        Assert.Equal((await File.ReadAllTextAsync(Path.Combine(fixture.StateDirectory, "secret"))).Trim(), endpoints.Api.Secret);
        Assert.Matches(@"^Host=127\.0\.0\.1;Port=\d+;Username=postgres;Database=scalelite$", endpoints.Postgres);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", endpoints.Redis);

        // Joins reach the API directly: its endpoint is not behind DCP's proxy, and endpoints.json names that port.
        var api = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ProjectResource>().Single(r => r.Name == "api");
        var http = api.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http");
        Assert.False(http.IsProxied);
        Assert.Equal(new Uri(endpoints.Api.Url).Port, fixture.App.GetEndpoint("api", "http").Port);

        // The simulators were registered through the operator path and are enabled.
        using var client = new BbbTestClient(endpoints.Api.Url, endpoints.Api.Secret);
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoints.Api.Url.Replace("/bigbluebutton/api", "/api/v1/servers", StringComparison.Ordinal));
        request.Headers.Authorization = new("Bearer", endpoints.Api.Secret);
        using var response = await client.Http.SendAsync(request);
        var servers = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        Assert.All(endpoints.Simulators, sim => Assert.Contains(servers, s => s.GetProperty("url").GetString() == sim.Url && s.GetProperty("state").GetString() == "enabled"));
    }

    [SkippableFact]
    public async Task ThirdPartyClient_MeetingFlow_WorksWithSha1AndSha256()
    {
        var endpoints = fixture.Endpoints;
        Skip.If(!LmsClients.Available, "node and npm are needed for the third-party client check");
        var baseUrl = endpoints.Api.Url[..^"/api".Length];
        var owners = new HashSet<string>();
        foreach (var algorithm in new[] { "sha1", "sha256" })
        {
            var (code, output) = await LmsClients.RunNodeAsync("lms-flow.js", baseUrl, endpoints.Api.Secret, algorithm, $"lms-{algorithm}");
            Assert.True(code == 0, output);
            Assert.Contains($"ok {algorithm}", output, StringComparison.Ordinal);
            owners.Add(output.Trim().Split("join->")[1]);
        }

        // Each join went to one of the pool's simulators, not to the API itself.
        Assert.All(owners, host => Assert.Contains(endpoints.Simulators, s => new Uri(s.Url).Authority == host));
    }
}
