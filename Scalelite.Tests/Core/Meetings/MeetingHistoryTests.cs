using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.BbbSimulator;
using Scalelite.Core.Meetings;
using Scalelite.Core.Meetings.History;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Meetings;

/// <summary>
/// The meeting history in PostgreSQL, written by the services as meetings live: each create with its placement, the
/// joins counted off the join path, the end and who ended it, and what a PostgreSQL outage does to it.
/// </summary>
public sealed class MeetingHistoryTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task History_CreateJoinsAndEndThroughTheApi_KeepsThePlacementTheJoinCountAndWhoEnded()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 3);
        var created = await pool.Client.CreateAsync("history-1");
        XmlAssert.Success(created);
        var owner = OwnerOf(pool, "history-1");
        for (var i = 0; i < 4; i++)
        {
            using var join = await pool.Client.JoinAsync("history-1", $"User {i}");
            Assert.Equal(HttpStatusCode.Redirect, join.StatusCode);
        }

        XmlAssert.Success(await pool.Client.CallAsync("end", ("meetingID", "history-1")));
        await FlushAsync(pool);

        var run = Assert.Single((await StoryAsync(pool, "history-1")).Runs);
        Assert.Equal(created.Element("internalMeetingID")!.Value, run.InternalMeetingId);
        Assert.Equal("created", run.Origin);
        Assert.Equal(owner, run.ServerId);
        Assert.Equal(new Uri(pool.Simulator(owner).ApiUrl).Authority, run.ServerHost);
        Assert.NotNull(run.CreatedAt);
        Assert.Equal(pool.ServerIds.Order(StringComparer.Ordinal), run.Candidates.Select(c => c.ServerId).Order(StringComparer.Ordinal));
        Assert.Equal(owner, Assert.Single(run.Candidates, c => c.Chosen).ServerId);
        Assert.All(run.Candidates, c => Assert.True(c.Answered && c.Load is not null));
        Assert.Equal(4, run.Joins);
        Assert.NotNull(run.FirstJoinAt);
        Assert.Equal("api", run.EndedBy);
        Assert.NotNull(run.EndedAt);
    }

    [Fact]
    public async Task History_MeetingCreatedAgainAfterItEnded_IsASecondRun()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("again"));
        XmlAssert.Success(await pool.Client.CallAsync("end", ("meetingID", "again")));
        XmlAssert.Success(await pool.Client.CreateAsync("again"));
        await FlushAsync(pool);

        var runs = (await StoryAsync(pool, "again")).Runs;

        Assert.Equal(2, runs.Count);
        Assert.Null(runs[0].EndedAt);
        Assert.Equal("api", runs[1].EndedBy);
        Assert.NotEqual(runs[0].InternalMeetingId, runs[1].InternalMeetingId);
    }

    [Fact]
    public async Task History_MeetingDisappearsFromThePoll_IsEndedByThePoll()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("everyone-left"));
        var owner = OwnerOf(pool, "everyone-left");
        Assert.True(pool.Simulator(owner).EndMeeting("everyone-left"));

        await pool.PollAsync();
        await FlushAsync(pool);

        var run = Assert.Single((await StoryAsync(pool, "everyone-left")).Runs);
        Assert.Equal("poll", run.EndedBy);
        Assert.Equal(owner, run.ServerId);
    }

    [Fact]
    public async Task History_ServerGoesOffline_EndsItsMeetingsAsServerOffline()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("stranded"));
        var owner = OwnerOf(pool, "stranded");
        pool.Simulator(owner).SetFault(FaultMode.Down);

        await pool.PollAsync();
        await pool.PollAsync();
        await FlushAsync(pool);

        var run = Assert.Single((await StoryAsync(pool, "stranded")).Runs);
        Assert.Equal("server-offline", run.EndedBy);
        Assert.Equal("created", run.Origin);
    }

    [Fact]
    public async Task History_MeetingMadeOnTheNodeItself_IsAdoptedByThePoll()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var sim = pool.Simulators.Servers[0];
        using (var direct = new BbbTestClient(sim.ApiUrl, sim.Secret))
        {
            XmlAssert.Success(await direct.CreateAsync("made-on-node"));
        }

        await pool.PollAsync();
        await FlushAsync(pool);

        var run = Assert.Single((await StoryAsync(pool, "made-on-node")).Runs);
        Assert.Equal("adopted", run.Origin);
        Assert.Equal(pool.ServerIds[0], run.ServerId);
        Assert.Empty(run.Candidates);
    }

    [Fact]
    public async Task History_PostgresDown_CreatesAndJoinsAreUnaffected_AndTheHistoryIsWrittenWhenItReturns()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, database: postgres.ConnectionString);
        var writer = pool.ApiService<MeetingHistoryWriter>();

        await postgres.StopAsync();
        XmlAssert.Success(await pool.Client.CreateAsync("during-outage"));
        using (var join = await pool.Client.JoinAsync("during-outage"))
        {
            Assert.Equal(HttpStatusCode.Redirect, join.StatusCode);
        }

        // Both answered while their history could not be written: it waits in the writer, not on their path.
        Assert.False(await writer.FlushAsync());

        await postgres.StartAsync();
        await Eventually.TrueAsync(() => writer.FlushAsync(), TimeSpan.FromSeconds(90), "the history kept through the outage is written");

        var run = Assert.Single((await StoryAsync(pool, "during-outage")).Runs);
        Assert.Equal("created", run.Origin);
        Assert.Equal(1, run.Joins);
        Assert.Equal(0, writer.Dropped);
    }

    [Fact]
    public async Task Add_QueueFull_DropsFurtherChangesAndCountsThem()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        // A writer of its own that never runs: nothing drains its queue.
        using var writer = ActivatorUtilities.CreateInstance<MeetingHistoryWriter>(pool.Api.Services);
        var change = new MeetingEndedChange(new MeetingIdentity(string.Empty, "m", "i", null, null), DateTimeOffset.UtcNow, "api", null);

        for (var i = 0; i < MeetingHistoryWriter.Capacity + 3; i++)
        {
            writer.Add(change);
        }

        Assert.Equal(3, writer.Dropped);
    }

    [Fact]
    public async Task RecordingImported_AfterTheMeetingEnded_KeepsItsDelayAndAddsLaterFormats()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        using var writer = ActivatorUtilities.CreateInstance<MeetingHistoryWriter>(pool.Api.Services);
        var meeting = new MeetingIdentity(string.Empty, "recorded", "rec-internal-1", pool.ServerIds[0], "bbb1");
        var now = DateTimeOffset.UtcNow;
        writer.Add(new MeetingCreatedChange(meeting, now.AddMinutes(-70), []));
        writer.Add(new MeetingEndedChange(meeting, now.AddMinutes(-10), "api", null));
        writer.Add(new RecordingImportedChange(meeting, "rec-1", ["presentation"], now, now.AddMinutes(-9)));
        Assert.True(await writer.FlushAsync());
        writer.Add(new RecordingImportedChange(meeting, "rec-1", ["video"], now.AddMinutes(30), now.AddMinutes(-9)));
        Assert.True(await writer.FlushAsync());

        var recording = Assert.Single(Assert.Single((await StoryAsync(pool, "recorded")).Runs).Recordings);
        Assert.Equal(["presentation", "video"], recording.Formats);
        Assert.Equal(600, recording.ImportDelaySeconds!.Value, 0.5);
        Assert.InRange((recording.MeetingEndedAt!.Value - now.AddMinutes(-10)).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Flush_MeetingsEndedLongerAgoThanTheHistoryDays_ArePruned()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?> { ["MeetingHistory:Days"] = "30" });
        using var writer = ActivatorUtilities.CreateInstance<MeetingHistoryWriter>(pool.Api.Services);
        var now = DateTimeOffset.UtcNow;
        foreach (var (id, endedDaysAgo) in new[] { ("old", 40), ("recent", 1) })
        {
            var meeting = new MeetingIdentity(string.Empty, id, id + "-internal", null, null);
            writer.Add(new MeetingCreatedChange(meeting, now.AddDays(-endedDaysAgo - 1), []));
            writer.Add(new MeetingEndedChange(meeting, now.AddDays(-endedDaysAgo), "api", null));
            writer.Add(new RecordingImportedChange(meeting, id + "-rec", ["presentation"], now.AddDays(-endedDaysAgo), now.AddDays(-endedDaysAgo)));
        }

        // A meeting whose end was never seen goes too, once nothing touched it for as long.
        writer.Add(new MeetingCreatedChange(new MeetingIdentity(string.Empty, "lost-end", "lost-end-internal", null, null), now.AddDays(-45), []));

        // A writer prunes after its first flush's writes, then hourly.
        Assert.True(await writer.FlushAsync());

        Assert.Null(await StoryOrNullAsync(pool, "old"));
        Assert.Null(await StoryOrNullAsync(pool, "lost-end"));
        var recent = Assert.Single((await StoryAsync(pool, "recent")).Runs);
        Assert.Single(recent.Recordings);
    }

    private static string OwnerOf(PoolHarness pool, string meetingId) =>
        pool.ServerIdOf(pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == meetingId)));

    /// <summary>Writes what the API and the poller have queued, as their timers would within seconds.</summary>
    private static async Task FlushAsync(PoolHarness pool)
    {
        Assert.True(await pool.ApiService<MeetingHistoryWriter>().FlushAsync());
        Assert.True(await pool.Poller.Services.GetRequiredService<MeetingHistoryWriter>().FlushAsync());
    }

    private static async Task<MeetingStory> StoryAsync(PoolHarness pool, string meetingId) =>
        await StoryOrNullAsync(pool, meetingId) ?? throw new Xunit.Sdk.XunitException($"No history of {meetingId}.");

    private static Task<MeetingStory?> StoryOrNullAsync(PoolHarness pool, string meetingId) =>
        pool.ApiService<MeetingHistoryQuery>().FindAsync(string.Empty, meetingId, CancellationToken.None);
}
