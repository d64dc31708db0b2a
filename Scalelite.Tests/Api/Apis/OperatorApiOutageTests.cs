using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Apis;

/// <summary>The operator API while PostgreSQL is down: 503 with a problem-details body, never an empty 500.</summary>
public sealed class OperatorApiOutageTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Theory]
    [InlineData("GET", "/api/v1/servers")]
    [InlineData("GET", "/api/v1/events")]
    [InlineData("GET", "/api/v1/headroom")]
    [InlineData("POST", "/api/v1/servers/some-id/cordon")]
    public async Task OperatorApi_PostgresDown_Answers503WithProblemDetails(string method, string path)
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, database: postgres.ConnectionString);
        await postgres.StopAsync();

        using var request = new HttpRequestMessage(new HttpMethod(method), pool.ApiBase.Replace("/bigbluebutton/api", path, StringComparison.Ordinal))
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", PoolHarness.Secret) },
        };
        if (method == "POST")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await pool.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("PostgreSQL", problem.RootElement.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.True(response.Headers.RetryAfter is not null, "a 503 says when to try again");
    }

    [Fact]
    public async Task Cli_PostgresDown_SaysWhatIsMissing()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, database: postgres.ConnectionString);
        await postgres.StopAsync();

        var (exit, _, err) = await Scalelite.Tests.Cli.CliRunner.RunAsync(
            "servers", "list", "--url", pool.ApiBase.Replace("/bigbluebutton/api", string.Empty, StringComparison.Ordinal), "--secret", PoolHarness.Secret);

        Assert.Equal(1, exit);
        Assert.Contains("503 Service Unavailable: PostgreSQL is unavailable.", err, StringComparison.Ordinal);
    }
}
