using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Pool.Lifecycle;

/// <summary>Retiring a server waits for the recordings of the meetings it recorded.</summary>
public sealed class PendingRecordingsGuardTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static readonly Actor Operator = new("test-operator", "retiring");

    [Fact]
    public async Task Remove_RecordedMeetingNotImportedYet_IsRefusedUntilItsRecordingArrives()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var created = await pool.Client.CreateAsync("recorded", ("record", "true"));
        XmlAssert.Success(created);
        await pool.PollAsync(); // the poller sees it running with recording on
        var id = pool.ServerIds[0];
        pool.Simulators.Servers[0].EndMeeting("recorded");
        await pool.PollAsync(); // ended: the server has no meetings left

        var lifecycle = pool.ApiService<ServerLifecycle>();
        var refused = await lifecycle.RemoveAsync(id, force: false, Operator, default);
        Assert.Equal(LifecycleStatus.Refused, refused.Status);
        Assert.Contains("recordings of 1 recorded meeting", refused.Error, StringComparison.Ordinal);

        // The recording arrives (as RecordingSync would index it): the server may go.
        var dbFactory = pool.ApiService<IDbContextFactory<ScaleliteDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            db.Recordings.Add(new Recording
            {
                RecordId = created.Element("internalMeetingID")!.Value,
                MeetingId = "recorded",
                InternalMeetingId = created.Element("internalMeetingID")!.Value,
                StartTime = DateTimeOffset.UtcNow,
                EndTime = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        Assert.True((await lifecycle.RemoveAsync(id, force: false, Operator, default)).Succeeded);
    }

    [Fact]
    public async Task Remove_MeetingWithoutRecording_IsNotHeldBack()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        XmlAssert.Success(await pool.Client.CreateAsync("plain"));
        await pool.PollAsync();
        pool.Simulators.Servers[0].EndMeeting("plain");
        await pool.PollAsync();

        Assert.True((await pool.ApiService<ServerLifecycle>().RemoveAsync(pool.ServerIds[0], force: false, Operator, default)).Succeeded);
    }
}
