using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Apis;

/// <summary>
/// Scalelite's tenant calls of the admin API: request and answer shapes, status codes and error texts as Scalelite
/// has them, the order of its checks, and where we differ on purpose (unique names, guarded removal, an admin secret).
/// </summary>
public sealed class TenantAdminApiTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const string AdminSecret = "admin-only-secret";

    private sealed class Admin(BbbTestClient client, string secret)
    {
        private readonly string _base = client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);

        public string Url(string call, string query = "") =>
            $"{_base}/{call}?{(query.Length > 0 ? query + "&" : string.Empty)}checksum={Checksum.Compute(ChecksumAlgorithm.Sha256, call, query, secret)}";

        public async Task<(HttpStatusCode Status, string Body, string? Type)> GetAsync(string call, string query = "")
        {
            using var response = await client.Http.GetAsync(Url(call, query));
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
        }

        public async Task<(HttpStatusCode Status, string Body, string? Type)> PostAsync(string call, object? body, string contentType = "application/json")
        {
            using var content = new StringContent(body is null ? string.Empty : JsonSerializer.Serialize(body), Encoding.UTF8, contentType);
            using var response = await client.Http.PostAsync(Url(call), content);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
        }
    }

    private static JsonElement Json(string body) => JsonDocument.Parse(body).RootElement;

    private static void AssertJson(string expected, (HttpStatusCode Status, string Body, string? Type) answer, HttpStatusCode status)
    {
        Assert.Equal(status, answer.Status);
        Assert.Equal("application/json", answer.Type);
        Assert.Equal(JsonSerializer.Serialize(Json(expected)), JsonSerializer.Serialize(Json(answer.Body)));
    }

    /// <summary>A refusal of the admin API: JSON <c>{"error": message, "messageKey": key}</c> with a status that says so.</summary>
    private static void AssertRefused(HttpStatusCode status, string messageKey, string message, (HttpStatusCode Status, string Body, string? Type) answer)
    {
        Assert.Equal(status, answer.Status);
        var body = Json(answer.Body);
        Assert.Equal(messageKey, body.GetProperty("messageKey").GetString());
        Assert.Equal(message, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TenantCalls_EachOutcome_AnsweredWithScalelitesShapesAndStatuses()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1, ("Scalelite:AdminSecrets", AdminSecret));
        var admin = new Admin(pool.Client, AdminSecret);

        AssertJson("""{"message":"No tenants exist"}""", await admin.GetAsync("getTenants"), HttpStatusCode.OK);

        // addTenant: the tenant wrapper is required (Rails' ParameterMissing, as XML), then both fields.
        AssertRefused(HttpStatusCode.BadRequest, "internalError", "param is missing or the value is empty: tenant", await admin.PostAsync("addTenant", new { name = "x" }));
        AssertRefused(HttpStatusCode.BadRequest, "internalError", "param is missing or the value is empty: tenant", await admin.PostAsync("addTenant", null));
        AssertJson("""{"message":"Error: both name and secrets are required to create a Tenant"}""",
            await admin.PostAsync("addTenant", new { tenant = new { name = "school1" } }), HttpStatusCode.BadRequest);

        var added = await admin.PostAsync("addTenant", new { tenant = new { name = "school1", secrets = "s1-old:s1-new" } });
        Assert.Equal(HttpStatusCode.Created, added.Status);
        var tenant = Json(added.Body).GetProperty("tenant");
        var id = tenant.GetProperty("id").GetString()!;
        Assert.True(Guid.TryParse(id, out _), id);
        AssertJson($$$"""{"tenant":{"id":"{{{id}}}","name":"school1","secrets":"s1-old:s1-new","new_record":false,"destroyed":false}}""", added, HttpStatusCode.Created);

        AssertJson($$$"""[{"id":"{{{id}}}","name":"school1","secrets":"s1-old:s1-new"}]""", await admin.GetAsync("getTenants"), HttpStatusCode.OK);
        AssertJson($$$"""{"id":"{{{id}}}","name":"school1","secrets":"s1-old:s1-new","new_record":false,"destroyed":false}""",
            await admin.GetAsync("getTenantInfo", "id=" + id), HttpStatusCode.OK);
        AssertJson("""{"error":"Couldn't find Tenant with id=nope"}""", await admin.GetAsync("getTenantInfo", "id=nope"), HttpStatusCode.NotFound);

        // The new tenant works at once on its host.
        using var lms = pool.HostClient("school1", "s1-new");
        XmlAssert.Success(await lms.CallAsync("getMeetings"));

        // updateTenant: blank fields are left alone; 404 for an unknown id; our rules as 422.
        AssertJson($$$"""{"tenant":{"id":"{{{id}}}","name":"school1","secrets":"s1-new","new_record":false,"destroyed":false}}""",
            await admin.PostAsync("updateTenant", new { id, tenant = new { name = "", secrets = "s1-new" } }), HttpStatusCode.OK);
        AssertJson("""{"error":"Couldn't find Tenant with id=nope"}""", await admin.PostAsync("updateTenant", new { id = "nope", tenant = new { name = "x" } }), HttpStatusCode.NotFound);
        AssertRefused(HttpStatusCode.BadRequest, "internalError", "param is missing or the value is empty: tenant", await admin.PostAsync("updateTenant", new { id }));
        var second = Json((await admin.PostAsync("addTenant", new { tenant = new { name = "school2", secrets = "s2" } })).Body).GetProperty("tenant").GetProperty("id").GetString();
        AssertJson("""{"error":"A tenant named school1 already exists"}""",
            await admin.PostAsync("updateTenant", new { id = second, tenant = new { name = "school1" } }), HttpStatusCode.UnprocessableEntity);
        AssertJson("""{"error":"A tenant's secret cannot be another tenant's"}""",
            await admin.PostAsync("addTenant", new { tenant = new { name = "school3", secrets = "s2" } }), HttpStatusCode.UnprocessableEntity);
        AssertJson("""{"error":"A tenant's secret cannot be a load-balancer or admin secret"}""",
            await admin.PostAsync("addTenant", new { tenant = new { name = "school3", secrets = PoolHarness.Secret } }), HttpStatusCode.UnprocessableEntity);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await admin.PostAsync("addTenant", new { tenant = new { name = "not a label", secrets = "s4" } })).Status);

        // deleteTenant: refused while it runs a meeting, with the reason, unless forced.
        XmlAssert.Success(await lms.CreateAsync("running"));
        var refused = await admin.PostAsync("deleteTenant", new { id });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Equal("Tenant school1 still has 1 running meeting(s) and 0 recording(s); end and delete them first, or force the removal",
            Json(refused.Body).GetProperty("error").GetString());
        AssertJson($$$"""{"success":"Tenant id={{{id}}} was destroyed"}""", await admin.PostAsync("deleteTenant", new { id, force = true }), HttpStatusCode.OK);
        AssertJson("""{"error":"Couldn't find Tenant with id=nope"}""", await admin.PostAsync("deleteTenant", new { id = "nope" }), HttpStatusCode.NotFound);
        XmlAssert.Failed(await lms.CallAsync("getMeetings"), "checksumError");

        // The id may come from the query string too.
        var byQuery = await admin.GetAsync("getTenantInfo", "id=" + second);
        Assert.Equal(HttpStatusCode.OK, byQuery.Status);
    }

    [Fact]
    public async Task TenantCalls_ChecksInScalelitesOrder_ContentTypeChecksumMethodThenMultitenancy()
    {
        await using var off = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = new Admin(off.Client, PoolHarness.Secret);

        AssertJson("""{"message":"Multitenancy is disabled"}""", await admin.GetAsync("getTenants"), HttpStatusCode.PreconditionFailed);
        AssertJson("""{"message":"Multitenancy is disabled"}""", await admin.PostAsync("addTenant", new { tenant = new { name = "a", secrets = "b" } }), HttpStatusCode.PreconditionFailed);

        // Before multitenancy: the content type of a POST with a body, then the checksum.
        AssertRefused(HttpStatusCode.UnsupportedMediaType, "unsupportedContentType", "POST request Content-Type is missing or unsupported", await admin.PostAsync("addTenant", new { }, "text/plain"));
        var wrong = new Admin(off.Client, "wrong-secret");
        AssertRefused(HttpStatusCode.Unauthorized, "checksumError", "You did not pass the checksum security check", await wrong.GetAsync("getTenants"));

        // A call with the wrong method is not a call at all.
        using var getAdd = await off.Client.Http.GetAsync(admin.Url("addTenant"));
        AssertRefused(HttpStatusCode.MethodNotAllowed, "unsupportedRequest", "This request is not supported.", (getAdd.StatusCode, await getAdd.Content.ReadAsStringAsync(), null));

        // With an admin secret, the load-balancer secret no longer opens the admin APIs.
        await using var separate = await TenantPool.StartAsync(infrastructure, simulators: 1, ("Scalelite:AdminSecrets", AdminSecret));
        AssertRefused(HttpStatusCode.Unauthorized, "checksumError", "You did not pass the checksum security check", await new Admin(separate.Client, PoolHarness.Secret).GetAsync("getServers"));
        Assert.Equal(HttpStatusCode.OK, (await new Admin(separate.Client, AdminSecret).GetAsync("getServers")).Status);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{separate.Client.Origin}/api/v1/tenants");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", PoolHarness.Secret);
        using var refused = await separate.Client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var allowed = new HttpRequestMessage(HttpMethod.Get, $"{separate.Client.Origin}/api/v1/tenants");
        allowed.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminSecret);
        using var listed = await separate.Client.Http.SendAsync(allowed);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Empty(await listed.Content.ReadFromJsonAsync<JsonElement[]>() ?? []);
    }
}
