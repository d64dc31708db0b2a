using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Scalelite.Poller.Leadership;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Leadership;

/// <summary>Three real Poller processes on one pool: one polls, and when it is killed with SIGKILL another takes over.</summary>
public sealed class PollerFailoverTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // Long enough that the two intervals a takeover may take leave a whole interval for a busy machine's scheduling.
    private const double IntervalSeconds = 4;

    [Fact]
    public async Task ThreePollers_LeaderKilled_OneFollowerTakesOverWithinTwoIntervals()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var pollers = Enumerable.Range(0, 3).Select(_ => Start(pool)).ToList();
        try
        {
            var leader = await LeaderPidAsync(pool.Database, exclude: null, pollers);
            await AssertOnePollerPollsAsync(pool, pollers);

            var victim = pollers.Single(p => p.Id == leader);
            victim.Kill();
            await victim.WaitForExitAsync();
            var atKill = GetMeetingsCalls(pool);
            var sinceKill = Stopwatch.StartNew();
            // Sampled tightly: the moment of the first poll after the kill is the measurement.
            var deadline = TimeSpan.FromSeconds(60);
            while (GetMeetingsCalls(pool) == atKill)
            {
                Assert.True(sinceKill.Elapsed < deadline, "no Poller polled within 60 s of the leader's kill");
                ServiceProcesses.ThrowIfAllExited(pollers, "a Poller polls after the leader's kill");
                await Task.Delay(10);
            }

            var takeover = sinceKill.Elapsed;
            Assert.True(takeover <= TimeSpan.FromSeconds(2 * IntervalSeconds), $"the takeover took {takeover.TotalSeconds:F1} s, more than two intervals");
            var successor = await LeaderPidAsync(pool.Database, exclude: leader, pollers);
            Assert.Contains(pollers, p => p.Id == successor && !p.HasExited);

            await AssertOnePollerPollsAsync(pool, pollers);
        }
        finally
        {
            foreach (var poller in pollers.Where(p => !p.HasExited))
            {
                poller.Kill();
                await poller.WaitForExitAsync();
            }

            foreach (var poller in pollers)
            {
                poller.Dispose();
            }
        }
    }

    /// <summary>
    /// Counts the simulators' getMeetings while at least 8 cycles' worth arrive: one poller polls each server at most once
    /// per interval (plus a tick the timer may owe), two would poll twice as often. Load only slows the polls down, so
    /// the bound cannot fail for a lone poller.
    /// </summary>
    private static async Task AssertOnePollerPollsAsync(PoolHarness pool, IReadOnlyCollection<Process> pollers)
    {
        const int cycles = 8;
        var server = pool.Simulators.Servers[0];
        var before = server.GetCallCount("getMeetings");
        var watch = Stopwatch.StartNew();
        await Eventually.TrueAsync(
            () => Task.FromResult(server.GetCallCount("getMeetings") - before >= cycles), TimeSpan.FromSeconds(120), "the pool is polled", pollers);
        var polls = server.GetCallCount("getMeetings") - before;
        var bound = (watch.Elapsed.TotalSeconds / IntervalSeconds) + 2;
        Assert.True(polls <= bound, $"{polls} polls in {watch.Elapsed.TotalSeconds:F1} s: more than one Poller polls");
    }

    private static long GetMeetingsCalls(PoolHarness pool) => pool.Simulators.Servers.Sum(s => s.GetCallCount("getMeetings"));

    /// <summary>The process id of the Poller whose lock connection holds the leader lock, from PostgreSQL's own view.</summary>
    private static async Task<int> LeaderPidAsync(string database, int? exclude, IReadOnlyCollection<Process> pollers)
    {
        var pid = 0;
        await Eventually.TrueAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                """
                SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objid = @key
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, connection);
            command.Parameters.AddWithValue("key", (long)(uint)PollerLeadership.LockKey);
            var name = await command.ExecuteScalarAsync() as string;
            // "scalelite-poller PID@HOST"
            if (name is null || !int.TryParse(name.Split(' ', '@')[1], NumberStyles.None, CultureInfo.InvariantCulture, out pid))
            {
                return false;
            }

            return pid != exclude;
        }, TimeSpan.FromSeconds(60), "a Poller holds the leader lock", pollers);
        return pid;
    }

    private static Process Start(PoolHarness pool)
    {
        var start = Repository.ServiceProcess("Scalelite.Poller");
        start.Environment["ConnectionStrings__scalelite"] = pool.Database;
        start.Environment["ConnectionStrings__redis"] = pool.Redis;
        start.Environment["Scalelite__Secrets"] = PoolHarness.Secret;
        start.Environment["Poller__Interval"] = IntervalSeconds.ToString(CultureInfo.InvariantCulture);
        start.Environment["Backend__ConnectTimeout"] = "1";
        start.Environment["Backend__ResponseTimeout"] = "1";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return ServiceProcesses.Start(start);
    }
}
