using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Scalelite.Tests.ServiceDefaults;

/// <summary>
/// <c>/health</c> answers probes with the status word, and an operator (admin secret as bearer token) with every
/// check's status and data, such as which Poller leads.
/// </summary>
public sealed class HealthReportWriterTests : IAsyncLifetime
{
    private const string Secret = "operator-secret";
    private WebApplication _app = null!;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.Services.AddSingleton<IOperatorTokenValidator>(new FixedToken(Secret));
        builder.Services.AddHealthChecks().AddCheck("poller-leadership", () => HealthCheckResult.Healthy(
            "leader", new Dictionary<string, object> { ["role"] = "leader", ["instance"] = "poller-1", ["since"] = "2026-11-30T05:53:50+00:00" }));
        _app = builder.Build();
        _app.MapDefaultEndpoints();
        await _app.StartAsync();
        _address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-secret")]
    public async Task Health_WithoutOperatorToken_AnswersTheStatusWordOnly(string? token)
    {
        using var response = await GetAsync(token);

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_WithOperatorToken_AnswersEveryCheckWithItsData()
    {
        using var response = await GetAsync(Secret);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        var check = json.RootElement.GetProperty("checks").GetProperty("poller-leadership");
        Assert.Equal("Healthy", check.GetProperty("status").GetString());
        Assert.Equal("leader", check.GetProperty("description").GetString());
        Assert.Equal("leader", check.GetProperty("data").GetProperty("role").GetString());
        Assert.Equal("poller-1", check.GetProperty("data").GetProperty("instance").GetString());
        Assert.Contains("\"since\": \"2026-11-30T05:53:50+00:00\"", body, StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> GetAsync(string? token)
    {
        using var http = new HttpClient { BaseAddress = _address };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/health", UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await http.SendAsync(request);
    }

    private sealed class FixedToken(string secret) : IOperatorTokenValidator
    {
        public bool IsValid(ReadOnlySpan<byte> token) => token.SequenceEqual(System.Text.Encoding.UTF8.GetBytes(secret));
    }
}
