using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.BbbSimulator;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.LocalServers;
using Scalelite.Poller.Polling;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Poller.Polling;

/// <summary>The poller while Redis is down: health is still judged and written to PostgreSQL, and Redis catches up when it returns.</summary>
public sealed class RedisOutagePollTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // The cost of the first call to meet a frozen Redis; nothing below is asserted against a time.
    private static Dictionary<string, string?> Settings() => new() { ["Redis:Timeout"] = "2" };

    /// <param name="frozen">Redis frozen (SIGSTOP), which keeps its data, rather than stopped and restarted empty.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PollCycle_ServerDiesWhileRedisIsDown_IsOfflineInPostgresAndLeavesTheRankingWhenRedisReturns(bool frozen)
    {
        await using var redis = await infrastructure.StartDedicatedRedisAsync();
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: Settings(), redis: redis.ConnectionString);
        XmlAssert.Success(await pool.Client.CreateAsync("on-the-dead-one"));
        var dead = pool.Simulators.Servers.Single(s => Runs(s, "on-the-dead-one"));
        var deadId = pool.ServerIdOf(dead);
        var liveId = pool.ServerIds.Single(id => id != deadId);
        var cycle = pool.Poller.Services.GetRequiredService<PollCycle>();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.Contains(deadId, await RankingAsync(connection));

        if (frozen)
        {
            Assert.True(ProcessUtilities.Suspend(redis.ProcessId!.Value));
        }
        else
        {
            await redis.StopAsync();
        }

        try
        {
            dead.SetFault(FaultMode.Down);
            // Each cycle must run to its save without Redis; the harness's unhealthy threshold is two failed polls.
            await Eventually.TrueAsync(async () =>
            {
                await cycle.RunAsync(CancellationToken.None);
                return await OnlineAsync(pool, deadId) == false;
            }, TimeSpan.FromSeconds(60), "the server that died while Redis was down is offline in PostgreSQL");
            Assert.True(await OnlineAsync(pool, liveId));
            await using var db = await pool.ApiService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync();
            Assert.Equal(1, await db.ServerEvents.CountAsync(e => e.ServerId == deadId && e.Action == ServerActions.Offline && e.Actor == "poller"));
        }
        finally
        {
            if (frozen)
            {
                ProcessUtilities.Resume(redis.ProcessId!.Value);
            }
        }

        if (!frozen)
        {
            await redis.StartAsync(redis.Directory, redis.Port);
        }

        // Once Redis answers, the next cycles republish: the live server is ranked, the dead one is not, and the
        // meeting that ran on the dead one is no longer routed to it.
        await Eventually.TrueAsync(async () =>
        {
            await cycle.RunAsync(CancellationToken.None);
            var ranking = await RankingAsync(connection);
            return ranking.Contains(liveId) && !ranking.Contains(deadId) && await OwnerAsync(connection, "on-the-dead-one") is null;
        }, TimeSpan.FromSeconds(60), "the ranking and the registry are brought up to date once Redis returns");
    }

    private static bool Runs(SimulatedServer server, string meetingId) => server.GetMeetings().Any(m => m.MeetingId == meetingId);

    private static async Task<bool?> OnlineAsync(PoolHarness pool, string serverId)
    {
        await using var db = await pool.ApiService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync();
        return await db.Servers.Where(s => s.Id == serverId).Select(s => (bool?)s.Online).SingleOrDefaultAsync();
    }

    private static async Task<IReadOnlyList<string>> RankingAsync(ConnectionMultiplexer connection)
    {
        try
        {
            return [.. (await connection.GetDatabase().SortedSetRangeByRankAsync("sl:load")).Select(v => v.ToString())];
        }
        catch (RedisException)
        {
            return [];
        }
    }

    private static async Task<string?> OwnerAsync(ConnectionMultiplexer connection, string meetingId)
    {
        try
        {
            var owner = await connection.GetDatabase().HashGetAsync("sl:m::" + meetingId, "s");
            return owner.IsNullOrEmpty ? null : owner.ToString();
        }
        catch (RedisException)
        {
            // Not known yet, so not known to be gone.
            return "(Redis does not answer)";
        }
    }
}
