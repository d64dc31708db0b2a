using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Scalelite.BbbSimulator;
using Scalelite.Core.Pool;
using Scalelite.Poller.Leadership;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Leadership;

/// <summary>
/// Real Poller processes on one pool: one polls; when it is killed with SIGKILL, or loses its lock connection, one
/// takes over; while PostgreSQL is down the leader goes on from memory and nobody else starts.
/// </summary>
public sealed partial class PollerFailoverTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // Long enough that the two intervals a takeover may take leave a whole interval for a busy machine's scheduling.
    private const double IntervalSeconds = 4;

    [Fact]
    public async Task ThreePollers_LeaderKilled_OneFollowerTakesOverWithinTwoIntervals()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var pollers = Enumerable.Range(0, 3).Select(_ => PollerProcess.Start(pool, IntervalSeconds)).ToList();
        try
        {
            var leader = await LeaderPidAsync(pool.Database, exclude: null, pollers);
            await AssertOnePollerPollsAsync(pool, IntervalSeconds);

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
                ServiceProcesses.ThrowIfAllExited(Processes(pollers), "a Poller polls after the leader's kill");
                await Task.Delay(10);
            }

            var takeover = sinceKill.Elapsed;
            Assert.True(takeover <= TimeSpan.FromSeconds(2 * IntervalSeconds), $"the takeover took {takeover.TotalSeconds:F1} s, more than two intervals");
            var successor = await LeaderPidAsync(pool.Database, exclude: leader, pollers);
            Assert.Contains(pollers, p => p.Id == successor && !p.HasExited);

            await AssertOnePollerPollsAsync(pool, IntervalSeconds);
        }
        finally
        {
            await StopAsync(pollers);
        }
    }

    /// <summary>The PostgreSQL-outage rule of <see cref="PollerLeadership"/>, on a cluster of the test's own that it stops.</summary>
    [Fact]
    public async Task TwoPollers_PostgresDown_LeaderPollsFromMemoryFollowerWaitsAndOneLeadsAfterwards()
    {
        // Shorter than the failover test's: nothing here is timed against the interval, and 8 cycles are counted thrice.
        const double interval = 2;
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, database: postgres.ConnectionString);
        var pollers = new[] { PollerProcess.Start(pool, interval), PollerProcess.Start(pool, interval) };
        try
        {
            var leaderPid = await LeaderPidAsync(pool.Database, exclude: null, pollers);
            var leader = pollers.Single(p => p.Id == leaderPid);
            var follower = pollers.Single(p => p != leader);
            await AssertOnePollerPollsAsync(pool, interval);

            await postgres.StopAsync();
            var followerChanges = follower.RoleChanges.Count;
            await Eventually.TrueAsync(() => Task.FromResult(leader.Role == "leader-without-database"), TimeSpan.FromSeconds(60),
                "the leader goes on without PostgreSQL");
            // Polling goes on, from the leader alone: two pollers would double the count.
            await AssertOnePollerPollsAsync(pool, interval);

            // A server that dies during the outage is still judged, and the verdict reaches the API through Redis.
            var dead = pool.Simulators.Servers[1];
            var deadId = pool.ServerIdOf(dead);
            dead.SetFault(FaultMode.Down);
            var directory = pool.ApiService<IServerDirectory>();
            await Eventually.TrueAsync(() => Task.FromResult(directory.Find(deadId) is { Online: false }), TimeSpan.FromSeconds(60),
                "the leader judges the dead server offline while PostgreSQL is down");
            Assert.Equal(followerChanges, follower.RoleChanges.Count);
            Assert.Equal("follower", follower.Role);

            await postgres.StartAsync();
            // Counted from the restart on: the hand-back, whoever takes the lock, never has two instances polling.
            await AssertOnePollerPollsAsync(pool, interval);
            var nowLeading = await LeaderPidAsync(pool.Database, exclude: null, pollers);
            Assert.Contains(pollers, p => p.Id == nowLeading);
            await Eventually.TrueAsync(
                () => Task.FromResult(pollers.Count(p => p.Role == "leader") == 1 && pollers.Single(p => p.Id != nowLeading).Role == "follower"),
                TimeSpan.FromSeconds(60), "exactly one Poller leads, the one holding the lock");
            await Eventually.TrueAsync(async () => await postgres.ScalarAsync($"select online from servers where id = '{deadId}'") == "f",
                TimeSpan.FromSeconds(60), "the verdict reached during the outage is written once PostgreSQL answers");
            Assert.True(pollers.All(p => !p.HasExited), "a Poller exited during the outage");
        }
        finally
        {
            await StopAsync(pollers);
        }
    }

    [Fact]
    public async Task TwoPollers_LeadersLockSessionTerminated_LeaderStopsAndOneLeadsWithinTwoIntervals()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var pollers = new[] { PollerProcess.Start(pool, IntervalSeconds), PollerProcess.Start(pool, IntervalSeconds) };
        try
        {
            var leaderPid = await LeaderPidAsync(pool.Database, exclude: null, pollers);
            var leader = pollers.Single(p => p.Id == leaderPid);
            var session = await LockSessionAsync(pool.Database) ?? throw new InvalidOperationException("the leader lock is not held");

            await using (var connection = new NpgsqlConnection(pool.Database))
            {
                await connection.OpenAsync();
                await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", connection);
                terminate.Parameters.AddWithValue("pid", session);
                Assert.Equal(true, await terminate.ExecuteScalarAsync());
            }

            var sinceTermination = Stopwatch.StartNew();
            // The leader sees its session end without waiting for its next tick, and cancels polling there and then.
            await Eventually.TrueAsync(() => Task.FromResult(leader.Lines.Any(l => l.Contains("lock connection lost", StringComparison.Ordinal))),
                TimeSpan.FromSeconds(60), "the leader notices that its lock session is gone");
            int? successor = null;
            while (successor is null)
            {
                Assert.True(sinceTermination.Elapsed < TimeSpan.FromSeconds(60), "nobody took the lock within 60 s of the termination");
                successor = await LockSessionAsync(pool.Database) is int holder && holder != session ? await LeaderPidAsync(pool.Database, exclude: null, pollers) : (int?)null;
                await Task.Delay(10);
            }

            var takeover = sinceTermination.Elapsed;
            Assert.True(takeover <= TimeSpan.FromSeconds(2 * IntervalSeconds), $"the lock was taken again after {takeover.TotalSeconds:F1} s, more than two intervals");
            Assert.Contains(pollers, p => p.Id == successor && !p.HasExited);
            await AssertOnePollerPollsAsync(pool, IntervalSeconds);
        }
        finally
        {
            await StopAsync(pollers);
        }
    }

    private static async Task StopAsync(IEnumerable<PollerProcess> pollers)
    {
        foreach (var poller in pollers)
        {
            await poller.DisposeAsync();
        }
    }

    /// <summary>
    /// Counts the simulators' getMeetings while at least 8 cycles' worth arrive: one poller polls each server at most once
    /// per interval (plus a tick the timer may owe), two would poll twice as often. Load only slows the polls down, so
    /// the bound cannot fail for a lone poller.
    /// </summary>
    private static async Task AssertOnePollerPollsAsync(PoolHarness pool, double intervalSeconds)
    {
        const int cycles = 8;
        var server = pool.Simulators.Servers[0];
        var before = server.GetCallCount("getMeetings");
        var watch = Stopwatch.StartNew();
        await Eventually.TrueAsync(
            () => Task.FromResult(server.GetCallCount("getMeetings") - before >= cycles), TimeSpan.FromSeconds(120), "the pool is polled");
        var polls = server.GetCallCount("getMeetings") - before;
        var bound = (watch.Elapsed.TotalSeconds / intervalSeconds) + 2;
        Assert.True(polls <= bound, $"{polls} polls in {watch.Elapsed.TotalSeconds:F1} s: more than one Poller polls");
    }

    private static long GetMeetingsCalls(PoolHarness pool) => pool.Simulators.Servers.Sum(s => s.GetCallCount("getMeetings"));

    private static IReadOnlyCollection<Process> Processes(IEnumerable<PollerProcess> pollers) => [.. pollers.Select(p => p.Process)];

    /// <summary>The process id of the Poller whose lock connection holds the leader lock, from PostgreSQL's own view.</summary>
    private static async Task<int> LeaderPidAsync(string database, int? exclude, IEnumerable<PollerProcess> pollers)
    {
        var pid = 0;
        await Eventually.TrueAsync(async () =>
        {
            // "scalelite-poller PID@HOST"
            var name = (await LockHolderAsync(database))?.ApplicationName;
            if (name is null || !int.TryParse(name.Split(' ', '@')[1], NumberStyles.None, CultureInfo.InvariantCulture, out pid))
            {
                return false;
            }

            return pid != exclude;
        }, TimeSpan.FromSeconds(60), "a Poller holds the leader lock", Processes(pollers));
        return pid;
    }

    /// <summary>The PostgreSQL backend pid of the session holding the leader lock, or null when nobody holds it.</summary>
    private static async Task<int?> LockSessionAsync(string database) => (await LockHolderAsync(database))?.Backend;

    /// <summary>The session holding the leader lock (its backend pid and application name), or null when nobody holds it.</summary>
    private static async Task<(int Backend, string? ApplicationName)?> LockHolderAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objid = @key
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, connection);
        command.Parameters.AddWithValue("key", (long)(uint)PollerLeadership.LockKey);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }

    /// <summary>A Poller process whose log is read for its role changes ("Poller leadership: follower -> leader (...)").</summary>
    private sealed partial class PollerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private PollerProcess(ProcessStartInfo start) => _process = ServiceProcesses.Start(start, _lines.Enqueue);

        /// <summary>The process, for waits that should fail at once when every Poller has exited.</summary>
        public Process Process => _process;

        public int Id => _process.Id;

        public bool HasExited => _process.HasExited;

        public IReadOnlyList<string> Lines => [.. _lines];

        /// <summary>Each logged change, as the role it changed to.</summary>
        public IReadOnlyList<string> RoleChanges => [.. _lines.Select(l => RoleChange().Match(l)).Where(m => m.Success).Select(m => m.Groups["role"].Value)];

        /// <summary>The role as logged last; a Poller starts as a follower and logs nothing until that changes.</summary>
        public string Role => RoleChanges is [.., var last] ? last : "follower";

        public static PollerProcess Start(PoolHarness pool, double intervalSeconds)
        {
            var start = Repository.ServiceProcess("Scalelite.Poller");
            start.Environment["ConnectionStrings__scalelite"] = pool.Database;
            start.Environment["ConnectionStrings__redis"] = pool.Redis;
            start.Environment["Scalelite__Secrets"] = PoolHarness.Secret;
            start.Environment["Poller__Interval"] = intervalSeconds.ToString(CultureInfo.InvariantCulture);
            start.Environment["Poller__UnhealthyThreshold"] = "2";
            start.Environment["Backend__ConnectTimeout"] = "1";
            start.Environment["Backend__ResponseTimeout"] = "1";
            start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            return new PollerProcess(start);
        }

        public void Kill() => _process.Kill();

        public Task WaitForExitAsync() => _process.WaitForExitAsync();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        [GeneratedRegex(@"Poller leadership: (?<from>[a-z-]+) -> (?<role>[a-z-]+) \(")]
        private static partial Regex RoleChange();
    }
}
