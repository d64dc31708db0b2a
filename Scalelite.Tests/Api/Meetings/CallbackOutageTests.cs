using Scalelite.Api.Meetings;
using Scalelite.Core.Recordings;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Api.Meetings;

/// <summary>
/// A create whose recording-ready callback cannot reach PostgreSQL: the callback is kept and stored once PostgreSQL
/// answers, or, when it cannot be kept anywhere, the create leaves nothing a retry would take for done.
/// </summary>
public sealed class CallbackOutageTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const string ReadyUrl = "http://lms.example/bigbluebutton/ready";

    [Fact]
    public async Task Create_PostgresDown_CallbackIsKeptAndStoredOncePostgresAnswers()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, database: postgres.ConnectionString);

        await postgres.StopAsync();
        var created = await pool.Client.CreateAsync("kept", ("meta_bbb-recording-ready-url", ReadyUrl));
        XmlAssert.Success(created);
        var internalId = created.Element("internalMeetingID")!.Value;

        await postgres.StartAsync();
        // The LMS's retry finds the meeting; the callback is stored once, with the meeting it belongs to.
        XmlAssert.Success(await pool.Client.CreateAsync("kept", ("meta_bbb-recording-ready-url", ReadyUrl)));
        await Eventually.TrueAsync(
            async () => await postgres.ScalarAsync($"select count(*) from callbacks where meeting_id = 'kept' and url = '{ReadyUrl}' and internal_meeting_id = '{internalId}' and status = '{CallbackStatus.Captured}'") == "1",
            TimeSpan.FromSeconds(30), "the callback captured during the outage is stored once PostgreSQL answers");
        Assert.Equal(0, await Db(pool).ListLengthAsync(CallbackOutbox.Key));
    }

    [Fact]
    public async Task Create_CallbackCannotBeKeptAnywhere_LeavesNothingAndTheRetryRecordsIt()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, database: postgres.ConnectionString);
        var sim = pool.Simulators.Servers[0];

        await postgres.StopAsync();
        // The outbox cannot take an entry either (a key of the wrong type makes every write to it fail).
        await Db(pool).StringSetAsync(CallbackOutbox.Key, "blocked");
        var refused = await pool.Client.CreateAsync("nowhere", ("meta_bbb-recording-ready-url", ReadyUrl));
        XmlAssert.Failed(refused, "internalError");
        Assert.DoesNotContain(sim.GetMeetings(), m => m.MeetingId == "nowhere");
        Assert.Null(await pool.ApiService<MeetingRegistry>().FindAsync(string.Empty, "nowhere"));

        await Db(pool).KeyDeleteAsync(CallbackOutbox.Key);
        await postgres.StartAsync();
        var created = await Retry(() => pool.Client.CreateAsync("nowhere", ("meta_bbb-recording-ready-url", ReadyUrl)));
        Assert.Equal("1", await postgres.ScalarAsync($"select count(*) from callbacks where meeting_id = 'nowhere' and internal_meeting_id = '{created.Element("internalMeetingID")!.Value}'"));
    }

    [Fact]
    public async Task Create_TenantsMeetingPostgresDown_CallbackIsStoredAsTheTenants()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, TenantPool.Settings(), database: postgres.ConnectionString);
        var tenant = await pool.AddTenantAsync("school", "school-secret");
        using var lms = pool.HostClient("school", "school-secret");

        await postgres.StopAsync();
        XmlAssert.Success(await lms.CreateAsync("kept", ("meta_bbb-recording-ready-url", ReadyUrl)));

        // The outbox keeps the tenant with the URL: once stored, the callback is the tenant's (signed with its secret).
        await postgres.StartAsync();
        await Eventually.TrueAsync(
            async () => await postgres.ScalarAsync($"select count(*) from callbacks where meeting_id = 'kept' and tenant_id = '{tenant.Id}' and url = '{ReadyUrl}'") == "1",
            TimeSpan.FromSeconds(60), "the tenant's callback captured during the outage is stored as the tenant's");
        Assert.Equal("0", await postgres.ScalarAsync($"select count(*) from callbacks where meeting_id = 'kept' and tenant_id <> '{tenant.Id}'"));
    }

    [Fact]
    public async Task OutboxFlush_EntryStoredBeforeACrash_IsRemovedWithoutADuplicate()
    {
        await using var postgres = await PostgresOutage.StartAsync(infrastructure);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, database: postgres.ConnectionString);
        var outbox = pool.ApiService<CallbackOutbox>();
        // A flush that stored the entry and died before it could take it out of the outbox.
        await postgres.ScalarAsync($"""
            insert into callbacks (tenant_id, meeting_id, internal_meeting_id, kind, url, status, attempts, created_at)
            values ('', 'crashed', 'internal-1', '{CallbackStatus.RecordingReady}', '{ReadyUrl}', '{CallbackStatus.Captured}', 0, now())
            """);
        Assert.True(await outbox.TryAddAsync(string.Empty, "crashed", "internal-1", new CapturedCallbacks([ReadyUrl], null)));

        await outbox.FlushAsync(CancellationToken.None);

        Assert.Equal(0, await Db(pool).ListLengthAsync(CallbackOutbox.Key));
        Assert.Equal("1", await postgres.ScalarAsync("select count(*) from callbacks where meeting_id = 'crashed'"));
    }

    private static IDatabase Db(PoolHarness pool) => pool.ApiService<IConnectionMultiplexer>().GetDatabase();

    /// <summary>The first create after PostgreSQL restarts may meet a pooled connection it cut; the LMS would retry.</summary>
    private static async Task<System.Xml.Linq.XElement> Retry(Func<Task<System.Xml.Linq.XElement>> create)
    {
        System.Xml.Linq.XElement? answer = null;
        await Eventually.TrueAsync(async () =>
        {
            answer = await create();
            return answer.Element("returncode")?.Value == "SUCCESS";
        }, TimeSpan.FromSeconds(30), "a create succeeds once PostgreSQL answers");
        return answer!;
    }
}
