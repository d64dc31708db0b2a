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
