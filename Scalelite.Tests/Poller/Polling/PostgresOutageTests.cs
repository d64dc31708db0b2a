using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalelite.BbbSimulator;
using Scalelite.Core.Bbb;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Placement;
using Scalelite.Core.State;
using Scalelite.Poller.Polling;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Polling;

/// <summary>The poller and the API while PostgreSQL is down: health is still judged, published through Redis, and written back later.</summary>
public sealed class PostgresOutageTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task PollCycle_ServerDiesWhilePostgresIsDown_IsTakenOutAndJoinsAreNotSentToIt()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 3, database: postgres.ConnectionString);
        XmlAssert.Success(await pool.Client.CreateAsync("outage-room"));
        var dead = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "outage-room"));
        var deadId = pool.ServerIdOf(dead);
        var cycle = pool.Poller.Services.GetRequiredService<PollCycle>();

        await postgres.StopAsync();
        dead.SetFault(FaultMode.Down);
        // Two failed polls reach the harness's unhealthy threshold: the poller must judge without PostgreSQL.
        await cycle.RunAsync(CancellationToken.None);
        await cycle.RunAsync(CancellationToken.None);

        var directory = pool.ApiService<IServerDirectory>();
        await Eventually.TrueAsync(() => Task.FromResult(directory.Find(deadId) is { Online: false }), TimeSpan.FromSeconds(10),
            "the API's server snapshot shows the dead server offline although PostgreSQL is down");
        Assert.All(pool.ServerIds.Where(id => id != deadId), id => Assert.True(directory.Find(id)!.Online));
        Assert.DoesNotContain(deadId, (await pool.ApiService<LoadRanking>().GetAllAsync()).Keys);
        var plan = pool.ApiService<MeetingPlacement>().Plan("new-meeting", new BbbParameters());
        Assert.DoesNotContain(plan.Candidates, s => s.Id == deadId);

        using (var join = await pool.Client.JoinAsync("outage-room"))
        {
            Assert.False(join.StatusCode == HttpStatusCode.Redirect && join.Headers.Location!.ToString().StartsWith(dead.ApiUrl, StringComparison.Ordinal),
                "a join was sent to the server the poller saw dead");
        }

        // A new meeting goes to a live server at once, without trying the dead one.
        XmlAssert.Success(await pool.Client.CreateAsync("while-down"));
        Assert.Single(pool.Simulators.Servers, s => s != dead && s.GetMeetings().Any(m => m.MeetingId == "while-down"));

        await postgres.StartAsync();
        await Eventually.TrueAsync(async () =>
        {
            await cycle.RunAsync(CancellationToken.None);
            return await postgres.ScalarAsync($"select online from servers where id = '{deadId}'") == "f";
        }, TimeSpan.FromSeconds(30), "the verdict reached while PostgreSQL was down is written once it answers");
        Assert.Equal("1", await postgres.ScalarAsync($"select count(*) from server_events where server_id = '{deadId}' and action = 'offline' and actor = 'poller'"));

        // Back to normal: the published verdicts are withdrawn, the snapshot comes from PostgreSQL again.
        dead.SetFault(FaultMode.Ok);
        await pool.PollAsync();
        Assert.True(directory.Find(deadId)!.Online);
        Assert.Equal("t", await postgres.ScalarAsync($"select online from servers where id = '{deadId}'"));
    }

    [Fact]
    public async Task Api_PostgresDown_LogsTheOutageOnceInsteadOfAStackTracePerFailure()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        var logs = new LogCapture();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, database: postgres.ConnectionString, logs: logs,
            settings: new Dictionary<string, string?> { ["Logging:LogLevel:Scalelite.Core.Pool.ServerDirectory"] = "Information" });
        XmlAssert.Success(await pool.Client.CreateAsync("logged"));

        // Cleared first: the server directory's reload may meet the outage, and log it once, while the stop is under way.
        logs.Clear();
        await postgres.StopAsync();
        using var operatorRequest = new HttpRequestMessage(HttpMethod.Get, pool.ApiBase.Replace("/bigbluebutton/api", "/api/v1/servers", StringComparison.Ordinal));
        // A few seconds of traffic that needs PostgreSQL (and an orchestrator's probes), while the server snapshot's reload fails every second.
        for (var i = 0; i < 30; i++)
        {
            using var recordings = await pool.Client.Http.GetAsync(pool.Client.Url("getRecordings", "meetingID=logged"));
            XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(recordings), "internalError");
            using var join = await pool.Client.JoinAsync("logged");
            Assert.Equal(HttpStatusCode.Redirect, join.StatusCode);
            using var servers = new HttpRequestMessage(HttpMethod.Get, operatorRequest.RequestUri) { Headers = { { "Authorization", $"Bearer {PoolHarness.Secret}" } } };
            using var answer = await pool.Client.Http.SendAsync(servers);
            using var health = await pool.Client.Http.GetAsync(pool.ApiBase.Replace("/bigbluebutton/api", "/health", StringComparison.Ordinal));
            await Task.Delay(100);
        }

        var api = logs.Entries.Where(e => e.Service == "api" && e.Level >= LogLevel.Information).ToList();
        Assert.True(api.All(e => e.Exception is null), "no stack traces during an outage: " + string.Join(Environment.NewLine, api.Where(e => e.Exception is not null).Select(e => e.Category)));
        Assert.True(api.Count <= 6, $"{api.Count} warnings and errors for one outage:{Environment.NewLine}{string.Join(Environment.NewLine, api.Select(e => $"{e.Category}: {e.Message}"))}");
        Assert.Single(api, e => e.Category == "Scalelite.Core.Pool.ServerDirectory");

        await postgres.StartAsync();
        await Eventually.TrueAsync(() => Task.FromResult(logs.Entries.Any(e => e.Service == "api" && e.Category == "Scalelite.Core.Pool.ServerDirectory" && e.Level == LogLevel.Information)),
            TimeSpan.FromSeconds(30), "the API says once that PostgreSQL answers again");
    }

    [Fact]
    public async Task ApiHealth_PostgresDownAfterStart_IsDegradedNotUnready()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, database: postgres.ConnectionString);
        var health = pool.ApiBase.Replace("/bigbluebutton/api", "/health", StringComparison.Ordinal);
        Assert.Equal("Healthy", await pool.Client.Http.GetStringAsync(health));

        await postgres.StopAsync();

        // Joins and creates still work, so readiness must hold: an orchestrator would otherwise take every replica out.
        using var answer = await pool.Client.Http.GetAsync(health);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("Degraded", await answer.Content.ReadAsStringAsync());
        // Scalelite's probe path too: a probe matching its body must not take a replica that serves out of the pool.
        Assert.Equal("success", await pool.Client.Http.GetStringAsync(pool.ApiBase.Replace("/bigbluebutton/api", "/health_check", StringComparison.Ordinal)));
        XmlAssert.Success(await pool.Client.CreateAsync("while-degraded"));
    }
}
