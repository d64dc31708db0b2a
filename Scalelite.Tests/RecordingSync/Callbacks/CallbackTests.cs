using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.RecordingSync.Callbacks;

/// <summary>
/// Recording-ready callbacks: captured at create, hidden from the backend, sent after import, retried. Analytics
/// callbacks: rewritten at create, posted by the server at the meeting's end, relayed to the LMS re-signed.
/// </summary>
public sealed class CallbackTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task RecordingReady_CapturedAtCreate_SentSignedAfterImportWithRetries()
    {
        var received = new ConcurrentQueue<string>();
        var calls = 0;
        var lmsBuilder = WebApplication.CreateSlimBuilder();
        lmsBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        lmsBuilder.Logging.ClearProviders();
        await using var lms = lmsBuilder.Build();
        lms.MapPost("/ready", async (HttpContext context) =>
        {
            // The first attempt fails, so the retry path is exercised.
            if (Interlocked.Increment(ref calls) == 1)
            {
                return Results.StatusCode(503);
            }

            var form = await context.Request.ReadFormAsync();
            received.Enqueue(form["signed_parameters"].ToString());
            return Results.Ok();
        });
        await lms.StartAsync();
        var lmsUrl = lms.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/ready";

        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var database = pool.ApiService<IConfiguration>().GetConnectionString("scalelite");
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true, new Dictionary<string, string?>
        {
            ["Scalelite:Secrets"] = PoolHarness.Secret,
            ["Recording:CallbackRetryDelay"] = "0.05",
        }, database);

        var created = await pool.Client.CallAsync("create", ("meetingID", "cb-meeting"), ("name", "Callbacks"), ("meta_bbb-recording-ready-url", lmsUrl));
        XmlAssert.Success(created);
        var sim = pool.Simulators.Servers[0];
        Assert.DoesNotContain(sim.GetMeetings().Single().Metadata, m => m.Key.Contains("recording-ready", StringComparison.Ordinal));

        using var produced = await pool.Client.Http.PostAsync($"{sim.ControlUrl}/recordings/cb-meeting?spool={Uri.EscapeDataString(sync.Spool)}&formats=presentation", null);
        Assert.Equal(HttpStatusCode.OK, produced.StatusCode);
        var recordId = created.Element("internalMeetingID")!.Value;

        await Eventually.TrueAsync(() => Task.FromResult(!received.IsEmpty), TimeSpan.FromSeconds(30), "the LMS receives the recording-ready callback");
        var jwt = Assert.Single(received).Split('.');
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(PoolHarness.Secret), Encoding.ASCII.GetBytes($"{jwt[0]}.{jwt[1]}"));
        Assert.Equal(signature, Base64Url.DecodeFromChars(jwt[2]));
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[1]));
        Assert.Equal("cb-meeting", payload.RootElement.GetProperty("meeting_id").GetString());
        Assert.Equal(recordId, payload.RootElement.GetProperty("record_id").GetString());

        await Eventually.TrueAsync(async () =>
        {
            await using var db = await sync.DbAsync();
            return await db.Set<Callback>().AnyAsync(c => c.RecordId == recordId && c.Status == CallbackStatus.Delivered && c.Attempts == 2);
        }, TimeSpan.FromSeconds(10), "the delivery is recorded after two attempts");
    }

    [Fact]
    public async Task RecordingReady_TenantsMeeting_ImportedAsTheTenantsAndSignedWithItsSecret()
    {
        var received = new ConcurrentQueue<string>();
        var lmsBuilder = WebApplication.CreateSlimBuilder();
        lmsBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        lmsBuilder.Logging.ClearProviders();
        await using var lms = lmsBuilder.Build();
        lms.MapPost("/ready", async (HttpContext context) =>
        {
            received.Enqueue((await context.Request.ReadFormAsync())["signed_parameters"].ToString());
            return Results.Ok();
        });
        await lms.StartAsync();
        var lmsUrl = lms.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/ready";

        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1);
        var tenant = await pool.AddTenantAsync("school", "school-current:school-previous");
        using var school = pool.HostClient("school", "school-current");
        var database = pool.ApiService<IConfiguration>().GetConnectionString("scalelite");
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true, new Dictionary<string, string?>
        {
            ["Scalelite:Secrets"] = PoolHarness.Secret,
            ["Scalelite:MultitenancyEnabled"] = "true",
        }, database);

        var created = await school.CallAsync("create", ("meetingID", "tenant-class"), ("name", "Tenant class"), ("meta_bbb-recording-ready-url", lmsUrl));
        XmlAssert.Success(created);
        var sim = pool.Simulators.Servers[0];
        using var produced = await pool.Client.Http.PostAsync($"{sim.ControlUrl}/recordings/tenant-class?spool={Uri.EscapeDataString(sync.Spool)}&formats=presentation", null);
        Assert.Equal(HttpStatusCode.OK, produced.StatusCode);

        await Eventually.TrueAsync(() => Task.FromResult(!received.IsEmpty), TimeSpan.FromSeconds(30), "the tenant's LMS receives the recording-ready callback");
        var jwt = Assert.Single(received).Split('.');
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes("school-current"), Encoding.ASCII.GetBytes($"{jwt[0]}.{jwt[1]}"));
        Assert.Equal(signature, Base64Url.DecodeFromChars(jwt[2]));

        // The recording is the tenant's: listed on its host, not on the bare host.
        await using (var db = await sync.DbAsync())
        {
            Assert.Equal(tenant.Id, (await db.Set<Recording>().SingleAsync(r => r.MeetingId == "tenant-class")).TenantId);
        }

        var mine = await school.CallAsync("getRecordings", ("meetingID", "tenant-class"));
        Assert.Single(mine.Element("recordings")!.Elements("recording"));
        var others = await pool.Client.CallAsync("getRecordings", ("meetingID", "tenant-class"));
        Assert.Empty(others.Element("recordings")?.Elements("recording") ?? []);
    }

    [Fact]
    public async Task AnalyticsCallback_MeetingEndsOnTheServer_RelayedToTheLmsSignedHs512WithTheLoadBalancerSecretAsScalelite()
    {
        var received = new ConcurrentQueue<(string Authorization, string UserAgent, string Body)>();
        var calls = 0;
        var lmsBuilder = WebApplication.CreateSlimBuilder();
        lmsBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        lmsBuilder.Logging.ClearProviders();
        await using var lms = lmsBuilder.Build();
        lms.MapPost("/analytics", async (HttpContext context) =>
        {
            // The first attempt fails, so the relay's retry is exercised.
            if (Interlocked.Increment(ref calls) == 1)
            {
                return Results.StatusCode(503);
            }

            using var reader = new StreamReader(context.Request.Body);
            received.Enqueue((context.Request.Headers.Authorization.ToString(), context.Request.Headers.UserAgent.ToString(), await reader.ReadToEndAsync()));
            return Results.Ok();
        });
        await lms.StartAsync();
        var lmsUrl = lms.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/analytics";

        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var database = pool.ApiService<IConfiguration>().GetConnectionString("scalelite");
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false, new Dictionary<string, string?>
        {
            ["Scalelite:Secrets"] = PoolHarness.Secret,
            ["Recording:CallbackRetryDelay"] = "0.05",
        }, database);

        var created = await pool.Client.CallAsync("create", ("meetingID", "analytics-meeting"), ("name", "Analytics"), ("meta_analytics-callback-url", lmsUrl));
        XmlAssert.Success(created);
        var sim = pool.Simulators.Servers[0];
        var relay = sim.GetMeetings().Single().Metadata.Single(m => m.Key == "analytics-callback-url").Value;
        Assert.Equal(pool.ApiBase + "/analytics_callback", relay);

        // The meeting ends on the server, which posts its analytics (signed with its own secret) to the relay.
        XmlAssert.Success(await pool.Client.CallAsync("end", ("meetingID", "analytics-meeting")));

        await Eventually.TrueAsync(() => Task.FromResult(!received.IsEmpty), TimeSpan.FromSeconds(60), "the LMS receives the analytics");
        var (authorization, userAgent, body) = Assert.Single(received);
        Assert.StartsWith("Bearer ", authorization, StringComparison.Ordinal);
        var jwt = authorization["Bearer ".Length..].Split('.');
        var signature = HMACSHA512.HashData(Encoding.UTF8.GetBytes(PoolHarness.Secret), Encoding.ASCII.GetBytes($"{jwt[0]}.{jwt[1]}"));
        Assert.Equal(signature, Base64Url.DecodeFromChars(jwt[2]));
        using (var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[0])))
        {
            Assert.Equal("HS512", header.RootElement.GetProperty("alg").GetString());
        }

        using (var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[1])))
        {
            // Only an expiry, about a day ahead (checked against now with wide margins, never an absolute time).
            var exp = DateTimeOffset.FromUnixTimeSeconds(claims.RootElement.GetProperty("exp").GetInt64());
            Assert.InRange(exp - DateTimeOffset.UtcNow, TimeSpan.FromHours(23), TimeSpan.FromHours(25));
            Assert.Single(claims.RootElement.EnumerateObject());
        }

        Assert.Equal("BigBlueButton Analytics Callback", userAgent);
        using var payload = JsonDocument.Parse(body);
        Assert.Equal("analytics-meeting", payload.RootElement.GetProperty("meeting_id").GetString());
        Assert.Equal(created.Element("internalMeetingID")!.Value, payload.RootElement.GetProperty("internal_meeting_id").GetString());
        Assert.Equal("scalelite", payload.RootElement.GetProperty("customer").GetString());
        Assert.Equal(JsonValueKind.Object, payload.RootElement.GetProperty("data").ValueKind);

        await Eventually.TrueAsync(async () =>
        {
            await using var db = await sync.DbAsync();
            return await db.Set<Callback>().AnyAsync(c => c.Kind == CallbackStatus.Analytics && c.MeetingId == "analytics-meeting"
                && c.Status == CallbackStatus.Delivered && c.Attempts == 2);
        }, TimeSpan.FromSeconds(10), "the delivery is recorded after two attempts");
    }

    [Fact]
    public async Task AnalyticsCallback_TenantsMeeting_RelayedSignedWithTheTenantsSecretAndNamedForIt()
    {
        var received = new ConcurrentQueue<(string Authorization, string Body)>();
        var lmsBuilder = WebApplication.CreateSlimBuilder();
        lmsBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        lmsBuilder.Logging.ClearProviders();
        await using var lms = lmsBuilder.Build();
        lms.MapPost("/analytics", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            received.Enqueue((context.Request.Headers.Authorization.ToString(), await reader.ReadToEndAsync()));
            return Results.Ok();
        });
        await lms.StartAsync();
        var lmsUrl = lms.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/analytics";

        // Without URL_HOST, so that the relay URL handed to the server is the address the LMS called, which the server
        // can reach; a path tenant for the same reason (a host tenant's name resolves nowhere here).
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1, ("Scalelite:UrlHost", null));
        var tenant = await pool.AddTenantAsync("academy", "academy-current:academy-previous");
        using var academy = pool.PathClient("academy", "academy-current");
        var database = pool.ApiService<IConfiguration>().GetConnectionString("scalelite");
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: false, new Dictionary<string, string?>
        {
            ["Scalelite:Secrets"] = PoolHarness.Secret,
            ["Scalelite:MultitenancyEnabled"] = "true",
            ["Recording:CallbackRetryDelay"] = "0.05",
        }, database);

        var created = await academy.CallAsync("create", ("meetingID", "tenant-analytics"), ("name", "Tenant analytics"), ("meta_analytics-callback-url", lmsUrl));
        XmlAssert.Success(created);
        var relay = pool.Simulators.Servers[0].GetMeetings().Single().Metadata.Single(m => m.Key == "analytics-callback-url").Value;
        Assert.Equal(TenantPool.PathBase(pool.ApiBase, "academy") + "/analytics_callback", relay);

        XmlAssert.Success(await academy.CallAsync("end", ("meetingID", "tenant-analytics")));

        await Eventually.TrueAsync(() => Task.FromResult(!received.IsEmpty), TimeSpan.FromSeconds(60), "the tenant's LMS receives the analytics");
        var (authorization, body) = Assert.Single(received);
        Assert.StartsWith("Bearer ", authorization, StringComparison.Ordinal);
        var jwt = authorization["Bearer ".Length..].Split('.');
        // Signed with the tenant's current secret, which its LMS holds, not the load balancer's.
        var signature = HMACSHA512.HashData(Encoding.UTF8.GetBytes("academy-current"), Encoding.ASCII.GetBytes($"{jwt[0]}.{jwt[1]}"));
        Assert.Equal(signature, Base64Url.DecodeFromChars(jwt[2]));
        using var payload = JsonDocument.Parse(body);
        Assert.Equal("tenant-analytics", payload.RootElement.GetProperty("meeting_id").GetString());
        Assert.Equal("academy", payload.RootElement.GetProperty("customer").GetString());

        await using var db = await sync.DbAsync();
        var delivered = await db.Set<Callback>().SingleAsync(c => c.Kind == CallbackStatus.Analytics && c.MeetingId == "tenant-analytics" && c.Status != CallbackStatus.Captured);
        Assert.Equal(tenant.Id, delivered.TenantId);
    }

    [Fact]
    public async Task AnalyticsCallback_TokenNotSignedByAnyServer_AnswersNoContentAndRelaysNothingAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CallAsync("create", ("meetingID", "forged-analytics"), ("name", "Forged"), ("meta_analytics-callback-url", "http://127.0.0.1:9/lms")));

        var forged = Scalelite.Core.Bbb.HmacJwt.Sign("not-a-server-secret", Scalelite.Core.Bbb.HmacJwt.HS512, new Dictionary<string, long> { ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() });
        using var request = new HttpRequestMessage(HttpMethod.Post, pool.ApiBase + "/analytics_callback")
        {
            Content = new StringContent("""{"meeting_id":"forged-analytics","data":{}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", forged);
        using var response = await pool.Client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        await using var db = await pool.ApiService<IDbContextFactory<Scalelite.Core.Persistence.ScaleliteDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Set<Callback>().AnyAsync(c => c.MeetingId == "forged-analytics" && c.Status != CallbackStatus.Captured));
    }
}
