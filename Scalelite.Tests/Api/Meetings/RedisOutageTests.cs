using System.Diagnostics;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Scalelite.Api.Meetings;
using Scalelite.BbbSimulator;
using Scalelite.Core.Persistence;
using Scalelite.LocalServers;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Api.Meetings;

/// <summary>
/// Redis stopped or frozen: joins to running meetings and creates go on from memory and the servers, and what was
/// placed meanwhile is written to Redis when it answers again.
/// </summary>
public sealed class RedisOutageTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // Every timing below is asserted against this, never as an absolute figure.
    private const double RedisTimeoutSeconds = 3;

    private const string ReadyUrl = "http://lms.example/bigbluebutton/ready";

    private static Dictionary<string, string?> Settings() => new() { ["Redis:Timeout"] = RedisTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    [Fact]
    public async Task Join_WhileRedisIsStopped_ReachesEveryRunningMeeting()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: Settings(), redis: redis.ConnectionString);
        var owners = await CreateMeetingsAsync(pool, "stopped", 9);
        // Some owners were looked up just before the outage, the others never were on this replica.
        foreach (var id in owners.Keys.Take(3))
        {
            using var join = await pool.Client.JoinAsync(id);
            AssertJoinedAt(join, owners[id]);
        }

        await redis.StopAsync();

        foreach (var (id, owner) in owners)
        {
            using var join = await pool.Client.JoinAsync(id);
            AssertJoinedAt(join, owner);
        }

        // A meeting that no server runs is still notFound, not an error.
        using var unknown = await pool.Client.JoinAsync("never-created");
        XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(unknown), "notFound");
    }

    [Fact]
    public async Task JoinCreateAndHealth_WhileRedisIsFrozen_AnswerWellWithinTheRedisTimeout()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: Settings(), redis: redis.ConnectionString);
        var owners = await CreateMeetingsAsync(pool, "frozen", 6);
        var ids = owners.Keys.ToList();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var loadBefore = await TotalLoadAsync(connection);

        Assert.True(ProcessUtilities.Suspend(redis.ProcessId!.Value));
        SimulatedServer createdOn;
        try
        {
            // The first call to meet the frozen Redis waits for its timeout, and the breaker opens...
            using (var first = await pool.Client.JoinAsync(ids[0]))
            {
                AssertJoinedAt(first, owners[ids[0]]);
            }

            // ...after which Redis costs nothing: joins, a create and /health answer well within the Redis timeout.
            var took = new List<TimeSpan>();
            foreach (var id in ids.Skip(1))
            {
                var watch = Stopwatch.StartNew();
                using var join = await pool.Client.JoinAsync(id);
                took.Add(watch.Elapsed);
                AssertJoinedAt(join, owners[id]);
            }

            var createWatch = Stopwatch.StartNew();
            XmlAssert.Success(await pool.Client.CreateAsync("frozen-new"));
            took.Add(createWatch.Elapsed);
            createdOn = pool.Simulators.Servers.Single(s => Runs(s, "frozen-new"));
            using (var join = await pool.Client.JoinAsync("frozen-new"))
            {
                AssertJoinedAt(join, createdOn);
            }

            var healthWatch = Stopwatch.StartNew();
            var (status, body) = await HealthAsync(pool);
            took.Add(healthWatch.Elapsed);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("Degraded", body);

            var median = took.Order().ElementAt(took.Count / 2);
            Assert.True(median < TimeSpan.FromSeconds(RedisTimeoutSeconds / 3), $"calls took {string.Join(", ", took.Select(t => t.TotalMilliseconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))} ms with Redis frozen");
        }
        finally
        {
            ProcessUtilities.Resume(redis.ProcessId!.Value);
        }

        // Once Redis answers again, the meeting created meanwhile is recorded in it, and the ranking gets its seats
        // (15) and the seven joins routed meanwhile.
        var createdId = pool.ServerIdOf(createdOn);
        await Eventually.TrueAsync(async () => await OwnerInRedisAsync(connection, "frozen-new") == createdId, TimeSpan.FromSeconds(30),
            "the meeting created while Redis was frozen is recorded");
        await Eventually.TrueAsync(async () => Math.Abs(await TotalLoadAsync(connection) - (loadBefore + 15 + 7)) < 1e-6, TimeSpan.FromSeconds(10),
            "the seats held and the joins gathered while Redis was frozen reach the ranking");
    }

    [Fact]
    public async Task Create_WhileRedisIsStopped_IsPlacedByLoad_AndRecordedWhenRedisReturns()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: Settings(), redis: redis.ConnectionString);
        await redis.StopAsync();

        var ids = Enumerable.Range(0, 6).Select(i => $"outage-{i}").ToList();
        foreach (var id in ids)
        {
            XmlAssert.Success(await pool.Client.CreateAsync(id));
        }

        // Placed from the last known loads, each create's seats held in memory: equal servers take two each.
        Assert.All(pool.Simulators.Servers, s => Assert.Equal(2, ids.Count(id => Runs(s, id))));
        var owners = ids.ToDictionary(id => id, id => pool.Simulators.Servers.Single(s => Runs(s, id)));
        foreach (var id in ids)
        {
            using var join = await pool.Client.JoinAsync(id);
            AssertJoinedAt(join, owners[id]);
        }

        // A repeat finds the running meeting instead of placing a second copy.
        XmlAssert.Success(await pool.Client.CreateAsync(ids[0]));
        Assert.Single(pool.Simulators.Servers, s => Runs(s, ids[0]));

        await redis.StartAsync(redis.Directory, redis.Port);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        await Eventually.TrueAsync(async () =>
        {
            foreach (var id in ids)
            {
                var serverId = pool.ServerIdOf(owners[id]);
                if (await OwnerInRedisAsync(connection, id) != serverId || !await db.HashExistsAsync($"sl:srv:{serverId}:g", ":" + id))
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30), "every meeting placed during the outage is recorded with its seats");

        foreach (var id in ids)
        {
            using var join = await pool.Client.JoinAsync(id);
            AssertJoinedAt(join, owners[id]);
        }

        Assert.All(ids, id => Assert.Single(pool.Simulators.Servers, s => Runs(s, id)));
    }

    [Fact]
    public async Task Create_OfOneMeetingOnTwoReplicasDuringAnOutage_KeepsTheOlderCopy()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: Settings(), redis: redis.ConnectionString);
        var other = await pool.StartApiReplicaAsync();
        await redis.StopAsync();

        XmlAssert.Success(await pool.Client.CreateAsync("split"));
        var older = pool.Simulators.Servers.Single(s => Runs(s, "split"));
        // That server stops answering for a moment: the other replica cannot see the meeting and places a second copy.
        older.SetFault(FaultMode.Down);
        XmlAssert.Success(await other.CreateAsync("split"));
        older.SetFault(FaultMode.Ok);
        var newer = pool.Simulators.Servers.Single(s => s != older && Runs(s, "split"));
        Assert.True(Runs(older, "split"));

        await redis.StartAsync(redis.Directory, redis.Port);

        // The older copy wins: the newer one is ended, and both replicas send joins to the older one.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var olderId = pool.ServerIdOf(older);
        await Eventually.TrueAsync(async () => !Runs(newer, "split") && await OwnerInRedisAsync(connection, "split") == olderId, TimeSpan.FromSeconds(30),
            "the copies are reconciled");
        Assert.True(Runs(older, "split"));
        foreach (var client in new[] { pool.Client, other })
        {
            using var join = await client.JoinAsync("split");
            AssertJoinedAt(join, older);
        }
    }

    [Fact]
    public async Task Health_FirstCallWhileRedisIsFrozen_AnswersDegradedWithoutWaitingForTheRedisTimeout()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings(), redis: redis.ConnectionString);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), await HealthAsync(pool));

        Assert.True(ProcessUtilities.Suspend(redis.ProcessId!.Value));
        try
        {
            // Nothing has met the frozen Redis yet, so the breaker is still closed: the check must not wait for the timeout.
            var watch = Stopwatch.StartNew();
            var (status, body) = await HealthAsync(pool);
            var took = watch.Elapsed;
            Assert.Equal((HttpStatusCode.OK, "Degraded"), (status, body));
            Assert.True(took < TimeSpan.FromSeconds(RedisTimeoutSeconds / 3), $"/health took {took}");
        }
        finally
        {
            ProcessUtilities.Resume(redis.ProcessId!.Value);
        }
    }

    [Fact]
    public async Task Health_WhileRedisIsStopped_AnswersDegradedWithoutWaitingForRedis()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: Settings(), redis: redis.ConnectionString);
        Assert.Equal((HttpStatusCode.OK, "Healthy"), await HealthAsync(pool));

        await redis.StopAsync();

        var watch = Stopwatch.StartNew();
        var (status, body) = await HealthAsync(pool);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Degraded", body);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(RedisTimeoutSeconds / 3), $"/health took {watch.Elapsed}");
    }

    [Fact]
    public async Task RedisOutage_IsLoggedOnce_NotOncePerCall()
    {
        var logs = new LogCapture();
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, settings: Settings(), redis: redis.ConnectionString, logs: logs);
        var owners = await CreateMeetingsAsync(pool, "logged", 3);
        logs.Clear();

        await redis.StopAsync();
        var joins = Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            using var join = await pool.Client.JoinAsync(owners.Keys.ElementAt(i % owners.Count));
            return join.StatusCode;
        }));
        var creates = Task.WhenAll(Enumerable.Range(0, 6).Select(i => pool.Client.CreateAsync($"logged-new-{i}")));
        await Task.WhenAll(joins, creates);

        var warnings = logs.Entries.Where(e => e.Service == "api" && e.Level >= LogLevel.Warning).ToList();
        Assert.True(warnings.Count <= 3, $"{warnings.Count} entries:{Environment.NewLine}{string.Join(Environment.NewLine, warnings.Take(20))}");
        Assert.True(warnings.Count(e => e.Exception is not null) <= 1, string.Join(Environment.NewLine, warnings.Take(20)));
        Assert.All(await joins, status => Assert.Equal(HttpStatusCode.Redirect, status));
        Assert.All(await creates, XmlAssert.Success);
    }

    [Fact]
    public async Task Create_WithCallbackWhileRedisIsStopped_StoresTheCallbackInPostgres()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: Settings(), redis: redis.ConnectionString);
        await redis.StopAsync();

        var created = await pool.Client.CreateAsync("called-back", ("meta_bbb-recording-ready-url", ReadyUrl));

        // PostgreSQL takes the callback: the outbox in Redis is not needed, so the create stands.
        XmlAssert.Success(created);
        var internalId = created.Element("internalMeetingID")!.Value;
        await using var db = await pool.ApiService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.Callbacks.CountAsync(c => c.MeetingId == "called-back" && c.InternalMeetingId == internalId && c.Url == ReadyUrl));
    }

    [Fact]
    public async Task Create_WithCallbackWhileRedisAndPostgresAreDown_IsUndoneWithoutWaitingForRedis()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(
            infrastructure, simulators: 2, settings: Settings(), redis: redis.ConnectionString, database: postgres.ConnectionString);
        // Frozen rather than stopped: a Redis that is waited for would cost each create the Redis timeout.
        Assert.True(ProcessUtilities.Suspend(redis.ProcessId!.Value));
        try
        {
            await postgres.StopAsync();
            XmlAssert.Success(await pool.Client.CreateAsync("before-callbacks"));

            var watch = Stopwatch.StartNew();
            var refused = await pool.Client.CreateAsync("nowhere", ("meta_bbb-recording-ready-url", ReadyUrl));
            var took = watch.Elapsed;

            // Neither store can keep the callback: nothing is left that a retry would take for done.
            XmlAssert.Failed(refused, "internalError");
            Assert.True(took < TimeSpan.FromSeconds(RedisTimeoutSeconds / 3), $"the refused create took {took}");
            Assert.All(pool.Simulators.Servers, s => Assert.False(Runs(s, "nowhere")));
            Assert.Null(pool.ApiService<OwnershipBacklog>().Find(string.Empty, "nowhere"));
            // A create without callbacks needs neither store.
            XmlAssert.Success(await pool.Client.CreateAsync("no-callbacks"));
        }
        finally
        {
            ProcessUtilities.Resume(redis.ProcessId!.Value);
        }
    }

    [Fact]
    public async Task Fsapi_WhileRedisIsStopped_BridgesEachPinToItsMeeting()
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings(), redis: redis.ConnectionString);
        var before = (await pool.Client.CreateAsync("dial-before")).Element("voiceBridge")!.Value;
        await redis.StopAsync();
        var during = (await pool.Client.CreateAsync("dial-during")).Element("voiceBridge")!.Value;

        // A meeting from before the outage (found in the servers' lists), one placed during it (in this replica's
        // memory), and a breakout room's number (one digit more) reaching its parent.
        Assert.Equal("meeting_id=dial-before", await DialAsync(pool, before));
        Assert.Equal("meeting_id=dial-during", await DialAsync(pool, during));
        Assert.Equal("meeting_id=dial-before", await DialAsync(pool, before + "2"));
        Assert.Null(await DialAsync(pool, before[0] == '9' ? "1" + before[1..] : "9" + before[1..]));
    }

    /// <summary>The dial-in lookup of a PIN: the meeting it is bridged into (the dialplan's first <c>set</c>), or null when asked again.</summary>
    private static async Task<string?> DialAsync(PoolHarness pool, string pin)
    {
        var origin = new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority);
        using var request = new HttpRequestMessage(HttpMethod.Post, origin + "/fsapi")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["section"] = "dialplan",
                ["Caller-Destination-Number"] = "5551234",
                ["variable_pin"] = pin,
            }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("fsapi:" + PoolHarness.Secret)));
        using var response = await pool.Client.Http.SendAsync(request);
        var condition = System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants("condition").Single();
        return condition.Elements("action").FirstOrDefault(a => a.Attribute("application")?.Value == "set")?.Attribute("data")?.Value;
    }

    private static async Task<Dictionary<string, SimulatedServer>> CreateMeetingsAsync(PoolHarness pool, string prefix, int count)
    {
        var owners = new Dictionary<string, SimulatedServer>();
        for (var i = 0; i < count; i++)
        {
            var id = $"{prefix}-{i}";
            XmlAssert.Success(await pool.Client.CreateAsync(id));
            owners[id] = pool.Simulators.Servers.Single(s => Runs(s, id));
        }

        return owners;
    }

    // The answer of a failed join, for the assertion message; BBB answers are small and already buffered.
    private static string ReadBody(HttpResponseMessage response)
    {
        using var reader = new StreamReader(response.Content.ReadAsStream());
        return reader.ReadToEnd();
    }

    private static bool Runs(SimulatedServer server, string meetingId) => server.GetMeetings().Any(m => m.MeetingId == meetingId);

    private static void AssertJoinedAt(HttpResponseMessage join, SimulatedServer owner)
    {
        Assert.True(join.StatusCode == HttpStatusCode.Redirect, $"HTTP {(int)join.StatusCode}: {ReadBody(join)}");
        Assert.StartsWith(owner.ApiUrl + "/join?", join.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    private static async Task<string?> OwnerInRedisAsync(ConnectionMultiplexer connection, string meetingId)
    {
        try
        {
            var owner = await connection.GetDatabase().HashGetAsync("sl:m::" + meetingId, "s");
            return owner.IsNullOrEmpty ? null : owner.ToString();
        }
        catch (RedisConnectionException)
        {
            return null;
        }
    }

    private static async Task<double> TotalLoadAsync(ConnectionMultiplexer connection)
    {
        try
        {
            return (await connection.GetDatabase().SortedSetRangeByRankWithScoresAsync("sl:load")).Sum(e => e.Score);
        }
        catch (RedisException)
        {
            return double.NaN;
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> HealthAsync(PoolHarness pool)
    {
        using var response = await pool.Client.Http.GetAsync(new Uri(new Uri(pool.ApiBase), "/health"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
