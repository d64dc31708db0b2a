using Scalelite.BbbSimulator;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Pool.Placement;

/// <summary>The class-start herd: many distinct creates at once, between two polls, over a pool of simulators.</summary>
public sealed class PlacementHerdTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const int Servers = 50;
    private const int Meetings = 1000;
    private const int Concurrency = 256;

    [Fact]
    public async Task Herd_1000CreatesAtConcurrency256Over50Servers_AllSucceedAndNoServerAboveCeilPlusOne()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, Servers);

        await HerdAsync([pool.Client], i => $"herd-{i}", _ => []);

        AssertMeetingsSpread(pool.Simulators);
    }

    [Fact]
    public async Task Herd_WithSizeHintOf100For10Percent_EstimatedUsersWithin15PercentOfMean()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, Servers);
        // Every tenth meeting, at random positions within each block of ten, is a large class.
        var random = new Random(3);
        var large = Enumerable.Range(0, Meetings / 10).Select(block => (block * 10) + random.Next(10)).ToHashSet();

        await HerdAsync([pool.Client], i => $"hinted-{i}", i => large.Contains(i) ? [("meta_bbb-meeting-size-hint", "100")] : []);

        // Right after the herd (what the next create sees), and after a poll has settled it from the servers.
        AssertEstimatesWithin(await pool.ApiService<LoadRanking>().GetAllAsync(), 0.15, (900 * 15) + (100 * 100));
        await pool.PollAsync();
        AssertEstimatesWithin(await pool.ApiService<LoadRanking>().GetAllAsync(), 0.15, (900 * 15) + (100 * 100));
        Assert.Equal(Meetings, pool.Simulators.Servers.Sum(s => s.MeetingCount));
    }

    [Fact]
    public async Task Herd_SplitOverTwoApiReplicasSharingRedis_StaysAsEven()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, Servers);
        using var second = await pool.StartApiReplicaAsync();

        await HerdAsync([pool.Client, second], i => $"replicas-{i}", _ => []);

        AssertMeetingsSpread(pool.Simulators);
    }

    /// <summary>Creates <see cref="Meetings"/> distinct meetings, <see cref="Concurrency"/> at a time, round-robin over the clients.</summary>
    private static async Task HerdAsync(IReadOnlyList<BbbTestClient> clients, Func<int, string> id, Func<int, (string, string)[]> extra)
    {
        using var gate = new SemaphoreSlim(Concurrency);
        var answers = await Task.WhenAll(Enumerable.Range(0, Meetings).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await clients[i % clients.Count].CreateAsync(id(i), extra(i));
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.All(answers, XmlAssert.Success);
    }

    private static void AssertMeetingsSpread(BbbSimulatorHost simulators)
    {
        var counts = simulators.Servers.Select(s => s.MeetingCount).ToList();
        Assert.Equal(Meetings, counts.Sum());
        var limit = (int)Math.Ceiling(Meetings / (double)Servers) + 1;
        Assert.True(counts.Max() <= limit, $"a server has {counts.Max()} meetings (limit {limit}): {string.Join(',', counts)}");
    }

    private static void AssertEstimatesWithin(IReadOnlyDictionary<string, double> loads, double tolerance, double expectedTotal)
    {
        Assert.Equal(Servers, loads.Count);
        // The hinted seats fade over LOAD_JOIN_BUFFER_TIME (15 minutes): a few seconds later they are within 1 %.
        Assert.InRange(loads.Values.Sum(), expectedTotal * 0.99, expectedTotal + 0.001);
        var mean = loads.Values.Average();
        var worst = loads.Values.Max(l => Math.Abs(l - mean)) / mean;
        Assert.True(worst <= tolerance, $"estimated users deviate {worst:P1} from the mean {mean:F0}: {string.Join(',', loads.Values.Order())}");
    }
}
