using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Placement;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Core.Pool.Placement;

/// <summary>
/// The placement service against the real Redis: the pick, the reservation, pending joins, tags, and what happens
/// when the chosen server fails. The servers' creates are scripted, so each failure is exact.
/// </summary>
public sealed class MeetingPlacementTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const string Key = ":meeting";

    [Fact]
    public async Task PlaceAsync_ChosenServerDoesNotAnswer_SkipsItOnceAndGivesItsSeatsBackAtOnce()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));
        var asked = new List<string>();

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), server =>
        {
            asked.Add(server.Id);
            return Task.FromResult(server.Id == "a" ? BackendResponse.Failed("connection refused") : Success());
        });

        Assert.True(outcome.Placed);
        Assert.Equal("b", outcome.Server.Id);
        Assert.Equal(["a", "b"], asked);
        var loads = await rig.Ranking.GetAllAsync();
        Assert.Equal(0, loads["a"]);
        Assert.Equal(10 + 15, loads["b"]);
        var reservations = await rig.Ranking.ReservationsAsync(["a", "b"]);
        Assert.Empty(reservations["a"]);
        Assert.Equal(15, reservations["b"][Key].Seats);
    }

    [Fact]
    public async Task PlaceAsync_Placed_ReportsTheCandidatesWithTheLoadsItChoseBy()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10.5), S("c", 20));

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), server =>
            Task.FromResult(server.Id == "a" ? BackendResponse.Failed("connection refused") : Success()));

        Assert.Equal("b", outcome.Server!.Id);
        Assert.Equal([new PlacementCandidate("a", 0), new PlacementCandidate("b", 10.5), new PlacementCandidate("c", 20)], outcome.Candidates.OrderBy(c => c.ServerId));
        Assert.Equal(["a"], outcome.Unanswered);
    }

    [Fact]
    public async Task PlaceAsync_NoServerAnswers_TriesTwoServersAndKeepsNoSeats()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 1), S("c", 2));
        var asked = new List<string>();

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), server =>
        {
            asked.Add(server.Id);
            return Task.FromResult(BackendResponse.Failed("timed out"));
        });

        Assert.False(outcome.Placed);
        Assert.Null(outcome.Response);
        // The servers tried tell the create's answer (Scalelite's "Unable to create meeting on server.").
        Assert.Equal(["a", "b"], outcome.Unanswered);
        Assert.Equal(["a", "b"], asked);
        var loads = await rig.Ranking.GetAllAsync();
        Assert.Equal([0, 1, 2], new[] { loads["a"], loads["b"], loads["c"] });
        Assert.All((await rig.Ranking.ReservationsAsync(["a", "b", "c"])).Values, Assert.Empty);
    }

    [Fact]
    public async Task PlaceAsync_ServerAnswersWithAnError_IsTheAnswerAndItsSeatsGoBack()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));
        var asked = new List<string>();

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), server =>
        {
            asked.Add(server.Id);
            return Task.FromResult(Answer("<response><returncode>FAILED</returncode><messageKey>idNotUnique</messageKey></response>"));
        });

        Assert.False(outcome.Placed);
        Assert.Equal("idNotUnique", outcome.Response?.MessageKey);
        Assert.Equal(["a"], asked);
        Assert.Equal(0, (await rig.Ranking.GetAllAsync())["a"]);
        Assert.Empty((await rig.Ranking.ReservationsAsync(["a"]))["a"]);
    }

    [Fact]
    public async Task Plan_AfterAServerLeftACreateUnanswered_LeavesItOutUntilAProbeSentAfterThatSucceeds()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));
        await rig.Placement.PlaceAsync(rig.Plan(), server => Task.FromResult(server.Id == "a" ? BackendResponse.Failed("Timed out.") : Success()));
        var failedAt = rig.Time.GetUtcNow();

        Assert.Equal(["b"], rig.Plan(":next").Candidates.Select(s => s.Id));
        // A good probe sent before the failure, or a failed one after it, proves nothing.
        rig.Directory.Servers = [S("a", 0) with { LastPolledAt = failedAt.AddSeconds(-1), LastPollSucceeded = true }, S("b", 25)];
        Assert.Equal(["b"], rig.Plan(":next").Candidates.Select(s => s.Id));
        rig.Directory.Servers = [S("a", 0) with { LastPolledAt = failedAt.AddSeconds(1), LastPollSucceeded = false }, S("b", 25)];
        Assert.Equal(["b"], rig.Plan(":next").Candidates.Select(s => s.Id));

        rig.Directory.Servers = [S("a", 0) with { LastPolledAt = failedAt.AddSeconds(1), LastPollSucceeded = true }, S("b", 25)];
        Assert.Equal(["a", "b"], rig.Plan(":next").Candidates.Select(s => s.Id).Order(StringComparer.Ordinal));
        Assert.False(rig.Unresponsive.IsSkipped("a"));
    }

    [Fact]
    public async Task Plan_EveryCandidateLeftACreateUnanswered_OffersThemAllAnyway()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), _ => Task.FromResult(BackendResponse.Failed("Timed out.")));

        Assert.False(outcome.Placed);
        Assert.True(rig.Unresponsive.IsSkipped("a") && rig.Unresponsive.IsSkipped("b"));
        Assert.Equal(["a", "b"], rig.Plan(":next").Candidates.Select(s => s.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Plan_SkippedServerNeverProbedAgain_IsOfferedAgainAfterUnhealthyThresholdPlusOnePollIntervals()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));
        await rig.Placement.PlaceAsync(rig.Plan(), server => Task.FromResult(server.Id == "a" ? BackendResponse.Failed("Timed out.") : Success()));

        rig.Time.Advance(TimeSpan.FromSeconds((2 + 1) * 60) - TimeSpan.FromSeconds(1));
        Assert.Equal(["b"], rig.Plan(":next").Candidates.Select(s => s.Id));
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["a", "b"], rig.Plan(":next").Candidates.Select(s => s.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PlaceAsync_ServerAnswersWithAnError_IsNotSkippedAfterwards()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));

        await rig.Placement.PlaceAsync(rig.Plan(), _ => Task.FromResult(Answer("<response><returncode>FAILED</returncode><messageKey>idNotUnique</messageKey></response>")));

        Assert.Equal(2, rig.Plan(":next").Candidates.Count);
    }

    [Fact]
    public async Task PlaceAsync_PendingJoinsOfThisReplica_CountBeforeTheChoice()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));
        // The buffer's timer never fires: only the placement's own script can apply the joins.
        rig.Joins.Add("a", 20);

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), _ => Task.FromResult(Success()));

        Assert.Equal("b", outcome.Server?.Id);
        var loads = await rig.Ranking.GetAllAsync();
        Assert.Equal(20, loads["a"]);
        Assert.Equal(10 + 15, loads["b"]);
        Assert.Empty(await rig.Joins.TakeForPlacementAsync());
    }

    [Fact]
    public async Task PlaceAsync_ServerMissingFromTheRanking_EntersWithItsLastRecordedLoad()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 10));
        await rig.Ranking.RemoveAsync("a");
        rig.Directory.Servers = [S("a", 50), S("b", 10)];

        var outcome = await rig.Placement.PlaceAsync(rig.Plan(), _ => Task.FromResult(Success()));

        Assert.Equal("b", outcome.Server?.Id);
        Assert.Equal(50, (await rig.Ranking.GetAllAsync())["a"]);
    }

    [Fact]
    public async Task PlaceAsync_HintedAndPlainMeetings_BalanceHintedSeatsApart()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0), S("b", 0));
        // a carries 30 seats that only a hint accounts for; b carries 40 real users.
        await rig.Ranking.SettleAsync("a", 30, 30, true, [], []);
        await rig.Ranking.SettleAsync("b", 40, 0, true, [], []);

        // A large class goes where the fewest hinted seats are, though it is not the lowest load.
        var hinted = await rig.Placement.PlaceAsync(rig.Plan(":class", ("meta_bbb-meeting-size-hint", "100")), _ => Task.FromResult(Success()));
        // A meeting without a hint looks past hinted seats: a's real load is 0.
        var plain = await rig.Placement.PlaceAsync(rig.Plan(":small"), _ => Task.FromResult(Success()));

        Assert.Equal("b", hinted.Server?.Id);
        Assert.Equal("a", plain.Server?.Id);
        var reservations = await rig.Ranking.ReservationsAsync(["b"]);
        Assert.Equal(100, reservations["b"][":class"].Seats);
        Assert.Equal(100, reservations["b"][":class"].Bump);
        Assert.Equal(85, reservations["b"][":class"].HintBump);
    }

    [Fact]
    public async Task Plan_OptionalTagWithNoServer_FallsBackToUntagged_TaggedServersKeptForTheirTag()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("gpu-1", 50, tag: "gpu"), S("plain", 0));

        var tagged = rig.Plan(":t", ("meta_server-tag", "gpu"));
        var fallback = rig.Plan(":f", ("meta_server-tag", "other"));
        var untagged = rig.Plan(":u");

        Assert.Equal(["gpu-1"], tagged.Candidates.Select(s => s.Id));
        Assert.Equal(["plain"], fallback.Candidates.Select(s => s.Id));
        Assert.Null(fallback.MissingTag);
        Assert.Equal(["plain"], untagged.Candidates.Select(s => s.Id));
        Assert.Equal("gpu-1", (await rig.Placement.PlaceAsync(tagged, _ => Task.FromResult(Success()))).Server?.Id);
    }

    [Fact]
    public async Task Plan_RequiredTagWithNoServer_ReportsItAndPlaceAsyncReservesNothing()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("gpu-1", 0, tag: "gpu"), S("plain", 0));
        rig.Joins.Add("plain", 3);
        var asked = false;

        var plan = rig.Plan(Key, ("meta_server-tag", "other!"));
        var outcome = await rig.Placement.PlaceAsync(plan, _ =>
        {
            asked = true;
            return Task.FromResult(Success());
        });

        Assert.Equal("other", plan.MissingTag);
        Assert.Empty(plan.Candidates);
        Assert.Same(PlacementOutcome.NoServer, outcome);
        Assert.False(asked);
        Assert.All((await rig.Ranking.GetAllAsync()).Values, load => Assert.Equal(0, load));
        // The pending joins were not taken by a placement that chose nothing: the next flush still writes them.
        await rig.Joins.FlushAsync();
        Assert.Equal(3, (await rig.Ranking.GetAllAsync())["plain"]);
    }

    [Fact]
    public async Task Plan_SizeHintOrMaxParticipants_SetsTheSeats()
    {
        await using var rig = await Rig.StartAsync(infrastructure, S("a", 0));

        Assert.Equal(15, rig.Plan().Seats);
        Assert.Equal(40, rig.Plan(Key, ("maxParticipants", "40")).Seats);
        Assert.Equal(100, rig.Plan(Key, ("maxParticipants", "40"), ("meta_bbb-meeting-size-hint", "100")).Seats);
    }

    [Fact]
    public async Task PlaceWithoutRedisAsync_SameCreatesAsTheScript_ChoosesTheSameServers()
    {
        var random = new Random(20261125);
        var servers = Enumerable.Range(0, 4).Select(i => S($"s{i}", random.Next(0, 60))).ToArray();
        await using var withRedis = await Rig.StartAsync(infrastructure, servers);
        await using var withoutRedis = await Rig.StartWithRedisDownAsync(infrastructure, servers);

        // Plain and hinted meetings mixed, so that both of the script's rules are taken, each on what came before.
        for (var i = 0; i < 40; i++)
        {
            var hint = random.Next(3) == 0 ? ("meta_bbb-meeting-size-hint", random.Next(20, 120).ToString(System.Globalization.CultureInfo.InvariantCulture)) : ("name", "plain");
            var scripted = await withRedis.Placement.PlaceAsync(withRedis.Plan($":m{i}", hint), _ => Task.FromResult(Success()));
            var inMemory = await withoutRedis.Placement.PlaceWithoutRedisAsync(withoutRedis.Plan($":m{i}", hint), _ => Task.FromResult(Success()));
            Assert.True(scripted.Server?.Id == inMemory.Server?.Id, $"create {i} ({hint}): the script chose {scripted.Server?.Id}, the in-memory pick {inMemory.Server?.Id}");
        }
    }

    [Fact]
    public async Task RestoreHeldSeatsAsync_Repeated_WritesTheSeatsHeldWhileRedisWasDownOnce()
    {
        await using var rig = await Rig.StartWithRedisDownAsync(infrastructure, S("a", 0), S("b", 10));
        var outcome = await rig.Placement.PlaceWithoutRedisAsync(rig.Plan(), _ => Task.FromResult(Success()));
        Assert.Equal("a", outcome.Server?.Id);
        Assert.Equal(0, (await rig.Ranking.GetAllAsync())["a"]);

        await rig.Placement.RestoreHeldSeatsAsync(default);
        await rig.Placement.RestoreHeldSeatsAsync(default);

        Assert.Equal(15, (await rig.Ranking.GetAllAsync())["a"]);
        Assert.Equal(15, (await rig.Ranking.ReservationsAsync(["a"]))["a"][Key].Seats);
    }

    private static ServerSnapshot S(string id, double load, string? tag = null) =>
        new(id, $"http://{id}/bigbluebutton/api", "secret", tag, ServerState.Enabled, true, 1, load);

    private static BackendResponse Success() =>
        Answer("<response><returncode>SUCCESS</returncode><meetingID>meeting</meetingID><createTime>1790000000000</createTime></response>");

    private static BackendResponse Answer(string xml) => BackendResponse.Received(HttpStatusCode.OK, Encoding.UTF8.GetBytes(xml));

    /// <summary>A placement service on a fresh Redis database, its ranking seeded with the servers' loads.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly ConnectionMultiplexer _redis;

        private Rig(ConnectionMultiplexer redis, DirectoryStub directory, IRedisBreaker? breaker)
        {
            _redis = redis;
            Directory = directory;
            Ranking = new LoadRanking(redis);
            breaker ??= new RedisBreaker(redis, TimeProvider.System, NullLogger<RedisBreaker>.Instance);
            Joins = new JoinLoadBuffer(Ranking, breaker, new FakeTimeProvider(), NullLogger<JoinLoadBuffer>.Instance);
            var load = new LoadCalculator(Options.Create(new LoadOptions()), new FakeTimeProvider(DateTimeOffset.UtcNow));
            Unresponsive = new UnresponsiveServers(redis, breaker, Time, Options.Create(new PollerOptions()));
            Placement = new MeetingPlacement(
                directory, new LeastLoadedPlacementPolicy(), load, Joins, Ranking, breaker, Unresponsive, redis, Options.Create(new BackendOptions()), History.Events());
        }

        public DirectoryStub Directory { get; }

        public RecordedHistory History { get; } = new();

        public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

        public LoadRanking Ranking { get; }

        public JoinLoadBuffer Joins { get; }

        public MeetingPlacement Placement { get; }

        public UnresponsiveServers Unresponsive { get; }

        public static Task<Rig> StartAsync(InfrastructureFixture infrastructure, params ServerSnapshot[] servers) =>
            StartAsync(infrastructure, null, servers);

        /// <summary>A rig whose placement takes Redis as down (its breaker stays open), while the test can still read Redis.</summary>
        public static Task<Rig> StartWithRedisDownAsync(InfrastructureFixture infrastructure, params ServerSnapshot[] servers) =>
            StartAsync(infrastructure, new OpenBreaker(), servers);

        private static async Task<Rig> StartAsync(InfrastructureFixture infrastructure, IRedisBreaker? breaker, ServerSnapshot[] servers)
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(infrastructure.CreateRedisConnectionString());
            var rig = new Rig(redis, new DirectoryStub { Servers = servers }, breaker);
            foreach (var server in servers)
            {
                await rig.Ranking.SetAsync(server.Id, server.Load ?? 0);
            }

            return rig;
        }

        public PlacementPlan Plan(string key = Key, params (string Name, string Value)[] parameters)
        {
            var bbb = new BbbParameters().Add("meetingID", key);
            foreach (var (name, value) in parameters)
            {
                bbb.Add(name, value);
            }

            return Placement.Plan(key, bbb);
        }

        public async ValueTask DisposeAsync()
        {
            Joins.Dispose();
            Placement.Dispose();
            Unresponsive.Dispose();
            await _redis.DisposeAsync();
        }

        /// <summary>Redis taken as down for as long as the test runs: no probe closes it.</summary>
        private sealed class OpenBreaker : IRedisBreaker
        {
            public bool IsOpen => true;

            public bool Trips(Exception exception) => RedisBreaker.IsOutage(exception);

            public void OnRecovery(Func<CancellationToken, Task> recover)
            {
            }
        }

        public sealed class DirectoryStub : IServerDirectory
        {
            public IReadOnlyList<ServerSnapshot> Servers { get; set; } = [];

            public IReadOnlyList<ServerSnapshot> All => Servers;

            public bool IsLoaded => true;

            public ServerSnapshot? Find(string id) => Servers.FirstOrDefault(s => s.Id == id);

            public Task<ServerSnapshot?> ResolveAsync(string id, CancellationToken ct = default) => Task.FromResult(Find(id));

            public Task RefreshAsync(CancellationToken ct = default) => Task.CompletedTask;
        }
    }
}
