using System.Net;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Tenancy;

/// <summary>Per-tenant limits (beyond Scalelite): the tenant over one is refused with its messageKey, and no other tenant is affected.</summary>
public sealed class TenantLimitsTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task MeetingLimit_TenantAtItsLimit_IsRefusedWhileAnotherTenantStillCreates()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure);
        await pool.AddTenantAsync("small", "small-secret", maxMeetings: 2);
        await pool.AddTenantAsync("other", "other-secret");
        using var small = pool.HostClient("small", "small-secret");
        using var other = pool.HostClient("other", "other-secret");

        // A herd of creates at once: exactly the limit get through.
        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => small.CreateAsync($"small-{i}")));
        Assert.Equal(2, answers.Count(a => a.Element("returncode")!.Value == "SUCCESS"));
        Assert.All(answers.Where(a => a.Element("returncode")!.Value != "SUCCESS"), a => XmlAssert.Failed(a, "meetingLimitReached"));
        Assert.Equal(2, pool.Simulators.Servers.Sum(s => s.GetMeetings().Count(m => m.MeetingId.StartsWith("small-", StringComparison.Ordinal))));

        // Another tenant is not held back; a repeat of a running meeting's create is not a new meeting.
        for (var i = 0; i < 4; i++)
        {
            XmlAssert.Success(await other.CreateAsync($"other-{i}"));
        }

        var running = answers.First(a => a.Element("returncode")!.Value == "SUCCESS").Element("meetingID")!.Value;
        XmlAssert.Success(await small.CreateAsync(running));

        // Once one ends, the tenant may create again.
        XmlAssert.Success(await small.CallAsync("end", ("meetingID", running)));
        XmlAssert.Success(await small.CreateAsync("small-again"));
        XmlAssert.Failed(await small.CreateAsync("small-over"), "meetingLimitReached");
    }

    [Fact]
    public async Task ParticipantLimit_TenantsMeetingsHoldIt_JoinsAreRefusedUntilTheyEmpty()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1);
        await pool.AddTenantAsync("busy", "busy-secret", maxParticipants: 10);
        await pool.AddTenantAsync("calm", "calm-secret", maxParticipants: 10);
        using var busy = pool.HostClient("busy", "busy-secret");
        using var calm = pool.HostClient("calm", "calm-secret");
        XmlAssert.Success(await busy.CreateAsync("lecture"));
        XmlAssert.Success(await calm.CreateAsync("seminar"));
        using (var first = await busy.JoinAsync("lecture"))
        {
            Assert.Equal(HttpStatusCode.Found, first.StatusCode);
        }

        // Ten people in the tenant's meetings, as the poller counts them.
        pool.Simulators.Servers[0].SetAttendees("lecture", 10, 0);
        await pool.PollAsync();
        await Eventually.TrueAsync(async () =>
        {
            using var join = await busy.JoinAsync("lecture", "Late");
            return join.StatusCode == HttpStatusCode.OK && (await BbbTestClient.ReadXmlAsync(join)).Element("messageKey")?.Value == "attendeeLimitReached";
        }, TimeSpan.FromSeconds(10), "the tenant's joins are refused at its participant limit");

        using (var calmJoin = await calm.JoinAsync("seminar"))
        {
            Assert.Equal(HttpStatusCode.Found, calmJoin.StatusCode);
        }

        pool.Simulators.Servers[0].SetAttendees("lecture", 3, 0);
        await pool.PollAsync();
        await Eventually.TrueAsync(async () =>
        {
            using var join = await busy.JoinAsync("lecture", "Later");
            return join.StatusCode == HttpStatusCode.Found;
        }, TimeSpan.FromSeconds(10), "joins are let in again below the limit");
    }

    [Fact]
    public async Task MaxParticipantsCap_CreateAsksForMoreOrNone_RefusedOrCapped()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1);
        await pool.AddTenantAsync("capped", "capped-secret", maxMeetingParticipants: 50);
        using var capped = pool.HostClient("capped", "capped-secret");
        var sim = pool.Simulators.Servers[0];

        XmlAssert.Failed(await capped.CreateAsync("too-big", ("maxParticipants", "100")), "maxParticipantsReached");
        Assert.DoesNotContain(sim.GetMeetings(), m => m.MeetingId == "too-big");

        XmlAssert.Success(await capped.CreateAsync("unlimited"));
        Assert.Equal("50", sim.GetReceivedCalls("create").Last(c => c["meetingID"] == "unlimited")["maxParticipants"]);
        XmlAssert.Success(await capped.CreateAsync("zero", ("maxParticipants", "0")));
        Assert.Equal("50", sim.GetReceivedCalls("create").Last(c => c["meetingID"] == "zero")["maxParticipants"]);
        XmlAssert.Success(await capped.CreateAsync("small", ("maxParticipants", "20")));
        Assert.Equal("20", sim.GetReceivedCalls("create").Last(c => c["meetingID"] == "small")["maxParticipants"]);

        // The bare host's default tenant has no limits.
        XmlAssert.Success(await pool.Client.CreateAsync("default-big", ("maxParticipants", "100")));
    }
}
