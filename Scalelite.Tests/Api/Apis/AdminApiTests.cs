using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Apis;

/// <summary>
/// How each outcome of a server change is answered: Scalelite's admin API with Scalelite's status codes and
/// <c>{"error": ...}</c> texts, our operator API with its own codes and <c>{"message": ...}</c>.
/// </summary>
public sealed class AdminApiTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    /// <summary>Nothing listens there: a server at this URL can be added but never admitted.</summary>
    private const string DeadUrl = "http://127.0.0.1:9/bigbluebutton/api";

    [Fact]
    public async Task ScaleliteAdminApi_EachOutcome_IsAnsweredWithScalelitesStatusAndError()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.Client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);
        async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string call, object body)
        {
            var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, call, string.Empty, pool.Client.Secret);
            using var response = await pool.Client.Http.PostAsJsonAsync($"{admin}/{call}?checksum={checksum}", body);
            return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
        }

        var existing = pool.Simulators.Servers[0].ApiUrl;
        await AssertErrorAsync(PostAsync("addServer", new { server = new { url = DeadUrl } }), HttpStatusCode.BadRequest, "Server needs a URL and a secret");
        await AssertErrorAsync(PostAsync("addServer", new { server = new { url = existing, secret = "x" } }), HttpStatusCode.BadRequest, $"A server with url={existing} already exists");

        var (addStatus, added) = await PostAsync("addServer", new { server = new { url = DeadUrl, secret = "x" } });
        Assert.Equal(HttpStatusCode.Created, addStatus);
        var id = added.GetProperty("id").GetString()!;
        Assert.Equal("disabled", added.GetProperty("state").GetString());

        await AssertErrorAsync(PostAsync("updateServer", new { id = "nope", server = new { load_multiplier = 2 } }), HttpStatusCode.NotFound, "Couldn't find server with id=nope");
        await AssertErrorAsync(PostAsync("updateServer", new { id, server = new { state = "sideways" } }), HttpStatusCode.BadRequest, "Invalid state: sideways (use enable, cordon or disable)");
        var (refusedStatus, refused) = await PostAsync("updateServer", new { id, server = new { state = "enable" } });
        Assert.Equal(HttpStatusCode.BadRequest, refusedStatus);
        Assert.StartsWith($"Server id={id} cannot be enabled: ", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (updateStatus, updated) = await PostAsync("updateServer", new { id, server = new { load_multiplier = 2.5 } });
        Assert.Equal(HttpStatusCode.OK, updateStatus);
        Assert.Equal(2.5, updated.GetProperty("load_multiplier").GetDouble());

        await AssertErrorAsync(PostAsync("panicServer", new { id = "nope" }), HttpStatusCode.NotFound, "Couldn't find server with id=nope");
        await AssertErrorAsync(PostAsync("deleteServer", new { id = "nope" }), HttpStatusCode.NotFound, "Couldn't find server with id=nope");
        var (deleteStatus, deleted) = await PostAsync("deleteServer", new { id });
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Assert.Equal($"Server id={id} was destroyed", deleted.GetProperty("success").GetString());
    }

    [Fact]
    public async Task ScaleliteAdminApi_RefusedBeforeTheCallRuns_IsAnsweredInJsonWithAStatus()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.Client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);
        string Signed(string call) => $"{admin}/{call}?checksum={Checksum.Compute(ChecksumAlgorithm.Sha256, call, string.Empty, pool.Client.Secret)}";
        async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpRequestMessage request)
        {
            using var response = await pool.Client.Http.SendAsync(request);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
        }

        await AssertKeyAsync(SendAsync(new(HttpMethod.Get, $"{admin}/getServers?checksum=123")), HttpStatusCode.Unauthorized, "checksumError");
        await AssertKeyAsync(SendAsync(new(HttpMethod.Get, $"{admin}/getServers")), HttpStatusCode.Unauthorized, "checksumError");
        await AssertKeyAsync(
            SendAsync(new(HttpMethod.Post, Signed("addServer")) { Content = new StringContent("server[url]=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") }),
            HttpStatusCode.UnsupportedMediaType, "unsupportedContentType");
        await AssertKeyAsync(SendAsync(new(HttpMethod.Get, Signed("getNothing"))), HttpStatusCode.NotFound, "unsupportedRequest");
        await AssertKeyAsync(SendAsync(new(HttpMethod.Get, Signed("addServer"))), HttpStatusCode.MethodNotAllowed, "unsupportedRequest");

        // Scalelite's own answer while multitenancy is off, after the checksum.
        var (status, body) = await SendAsync(new(HttpMethod.Get, Signed("getTenants")));
        Assert.Equal((HttpStatusCode.PreconditionFailed, "Multitenancy is disabled"), (status, body.GetProperty("message").GetString()));
        await AssertKeyAsync(SendAsync(new(HttpMethod.Get, $"{admin}/getTenants?checksum=0")), HttpStatusCode.Unauthorized, "checksumError");

        // A JSON body declared with a charset, or no body at all, is fine.
        var (listed, _) = await SendAsync(new(HttpMethod.Get, Signed("getServers")));
        Assert.Equal(HttpStatusCode.OK, listed);
        var (updated, _) = await SendAsync(new(HttpMethod.Post, Signed("updateServer"))
        {
            Content = new StringContent("{\"id\":\"" + pool.ServerIds[0] + "\",\"server\":{\"tag\":\"a\"}}", System.Text.Encoding.UTF8, "application/json"),
        });
        Assert.Equal(HttpStatusCode.OK, updated);
    }

    [Fact]
    public async Task OperatorApi_EachOutcome_IsAnsweredWithItsStatusAndMessage()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        using var http = new HttpClient { BaseAddress = new Uri(new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority)) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", PoolHarness.Secret);
        async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object body)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });
            return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
        }

        await AssertMessageAsync(SendAsync(HttpMethod.Post, "/api/v1/servers", new { url = DeadUrl }), HttpStatusCode.BadRequest, "Server needs a URL and a secret");
        var (addStatus, added) = await SendAsync(HttpMethod.Post, "/api/v1/servers", new { url = DeadUrl, secret = "x" });
        Assert.Equal(HttpStatusCode.Created, addStatus);
        Assert.False(added.GetProperty("admitted").GetBoolean());
        var id = added.GetProperty("server").GetProperty("id").GetString()!;

        await AssertMessageAsync(SendAsync(HttpMethod.Patch, "/api/v1/servers/nope", new { loadMultiplier = 2 }), HttpStatusCode.NotFound, "Couldn't find server with id=nope");
        await AssertMessageAsync(SendAsync(HttpMethod.Patch, $"/api/v1/servers/{id}", new { loadMultiplier = 0 }), HttpStatusCode.BadRequest, "load_multiplier must be a number greater than 0");
        var (updateStatus, updated) = await SendAsync(HttpMethod.Patch, $"/api/v1/servers/{id}", new { capacity = 120 });
        Assert.Equal(HttpStatusCode.OK, updateStatus);
        Assert.Equal(120, updated.GetProperty("capacity").GetInt32());

        var (refusedStatus, refused) = await SendAsync(HttpMethod.Post, $"/api/v1/servers/{id}/enable", new { });
        Assert.Equal(HttpStatusCode.Conflict, refusedStatus);
        Assert.StartsWith($"Server id={id} cannot be enabled: ", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static async Task AssertErrorAsync(Task<(HttpStatusCode Status, JsonElement Body)> call, HttpStatusCode status, string error)
    {
        var (actual, body) = await call;
        Assert.Equal((status, error), (actual, body.GetProperty("error").GetString()));
    }

    private static async Task AssertKeyAsync(Task<(HttpStatusCode Status, JsonElement Body)> call, HttpStatusCode status, string messageKey)
    {
        var (actual, body) = await call;
        Assert.Equal((status, messageKey), (actual, body.GetProperty("messageKey").GetString()));
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
    }

    private static async Task AssertMessageAsync(Task<(HttpStatusCode Status, JsonElement Body)> call, HttpStatusCode status, string message)
    {
        var (actual, body) = await call;
        Assert.Equal((status, message), (actual, body.GetProperty("message").GetString()));
    }
}
