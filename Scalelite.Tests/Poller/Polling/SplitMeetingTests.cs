using System.Net;
using Scalelite.BbbSimulator;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Poller.Polling;

/// <summary>
/// A meeting re-created elsewhere while its first server was offline: when that server returns, the registry's owner
/// is the meeting, the copy left behind is ended once empty, and getMeetings lists the meeting once.
/// </summary>
public sealed class SplitMeetingTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task ServerReturns_WithMeetingRecreatedElsewhere_ListsOwnersCopyOnceAndEndsTheOtherWhenEmpty()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("split"));
        var first = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "split"));
        var second = pool.Simulators.Servers.Single(s => s != first);
        // Someone is still in the first copy when its server drops off the network.
        Assert.True(first.SetAttendees("split", viewers: 2, videoStreams: 0));

        first.SetFault(FaultMode.Down);
        await pool.PollAsync();
        await pool.PollAsync();
        var recreated = await pool.Client.CreateAsync("split");
        XmlAssert.Success(recreated);
        Assert.Contains(second.GetMeetings(), m => m.MeetingId == "split");

        // The first server comes back, still running its copy.
        first.SetFault(FaultMode.Ok);
        await pool.PollAsync();
        Assert.Contains(first.GetMeetings(), m => m.MeetingId == "split");

        var listed = await pool.Client.CallAsync("getMeetings");
        XmlAssert.Success(listed);
        var copy = Assert.Single(listed.Element("meetings")!.Elements("meeting"), m => m.Element("meetingID")?.Value == "split");
        Assert.Equal(recreated.Element("internalMeetingID")!.Value, copy.Element("internalMeetingID")!.Value);
        using (var join = await pool.Client.JoinAsync("split"))
        {
            Assert.Equal(HttpStatusCode.Redirect, join.StatusCode);
            Assert.StartsWith(second.ApiUrl, join.Headers.Location!.ToString(), StringComparison.Ordinal);
        }

        // Not while people are in it; once they have left, the next poll ends the stale copy.
        Assert.Contains(first.GetMeetings(), m => m.MeetingId == "split");
        Assert.True(first.SetAttendees("split", viewers: 0, videoStreams: 0));
        await pool.PollAsync();
        Assert.DoesNotContain(first.GetMeetings(), m => m.MeetingId == "split");
        Assert.Contains(second.GetMeetings(), m => m.MeetingId == "split");
        XmlAssert.Success(await pool.Client.CallAsync("getMeetingInfo", ("meetingID", "split")));
    }

    [Fact]
    public async Task ServerReturns_WithTenantsMeetingRecreatedElsewhere_TenantListsOwnersCopyOnceAndOthersNone()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, TenantPool.Settings());
        await pool.AddTenantAsync("school", "school-secret");
        await pool.AddTenantAsync("other", "other-secret");
        using var school = pool.HostClient("school", "school-secret");
        using var other = pool.HostClient("other", "other-secret");
        XmlAssert.Success(await school.CreateAsync("split"));
        var first = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "split"));
        Assert.True(first.SetAttendees("split", viewers: 1, videoStreams: 0));

        first.SetFault(FaultMode.Down);
        await pool.PollAsync();
        await pool.PollAsync();
        var recreated = await school.CreateAsync("split");
        XmlAssert.Success(recreated);
        first.SetFault(FaultMode.Ok);
        await pool.PollAsync();
        Assert.Contains(first.GetMeetings(), m => m.MeetingId == "split");

        // The owner's copy is found under the tenant's own key: listed once, and the rebuilt answer is still the tenant's alone.
        var listed = await school.CallAsync("getMeetings");
        XmlAssert.Success(listed);
        var copy = Assert.Single(listed.Element("meetings")!.Elements("meeting"));
        Assert.Equal(recreated.Element("internalMeetingID")!.Value, copy.Element("internalMeetingID")!.Value);
        Assert.Empty((await other.CallAsync("getMeetings")).Element("meetings")?.Elements("meeting") ?? []);
    }
}
