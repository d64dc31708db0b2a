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

/// <summary>Recording-ready callbacks: captured at create, hidden from the backend, sent after import, retried.</summary>
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
}
