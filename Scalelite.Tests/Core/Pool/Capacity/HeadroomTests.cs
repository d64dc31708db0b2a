using System.Net;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Capacity;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Pool.Capacity;

/// <summary>The headroom arithmetic for uneven pools (pure).</summary>
public sealed class HeadroomCalculatorTests
{
    private static Server Node(string id, int? capacity, int users, bool online = true, ServerState state = ServerState.Enabled) => new()
    {
        Id = id, Url = $"https://{id}.example.com/bigbluebutton/api", Secret = "s", Capacity = capacity, Users = users, Online = online, State = state,
    };

    [Fact]
    public void Compute_UnevenNodesWithRoomForTheLargest_HoldsNPlusOne()
    {
        var report = HeadroomCalculator.Compute([Node("a", 100, 50), Node("b", 200, 100), Node("c", 300, 150)]);

        Assert.True(report.Judged);
        Assert.Equal(600, report.Capacity);
        Assert.Equal(300, report.Used);
        Assert.Equal(300, report.Free);
        Assert.Equal("c", report.LargestServerId);
        Assert.Equal(300, report.CapacityWithoutLargest);
        Assert.True(report.SurvivesLargestLoss);
        Assert.Equal(0, report.Missing);
    }

    [Fact]
    public void Compute_LargestCannotBeLost_SaysHowMuchIsMissing()
    {
        var report = HeadroomCalculator.Compute([Node("a", 100, 100), Node("b", 200, 150), Node("c", 300, 200)]);

        Assert.Equal(450, report.Used);
        Assert.Equal(150, report.Free);
        Assert.False(report.SurvivesLargestLoss);
        Assert.Equal(150, report.Missing);
        Assert.Contains("150 users of capacity missing", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_DisabledOfflineAndUndeclaredNodes_AreLeftOutOfTheSums()
    {
        var report = HeadroomCalculator.Compute([
            Node("a", 100, 40),
            Node("b", 100, 40, state: ServerState.Cordoned),
            Node("big-off", 1000, 0, online: false),
            Node("big-disabled", 1000, 0, state: ServerState.Disabled),
            Node("u", null, 500),
        ]);

        Assert.Equal(200, report.Capacity);
        Assert.Equal(80, report.Used);
        Assert.Equal(100, report.LargestCapacity);
        Assert.True(report.SurvivesLargestLoss);
        Assert.Equal(["u"], report.Undeclared);
    }

    [Fact]
    public void Compute_NoDeclaredCapacity_IsNotJudgedAndNotDegraded()
    {
        var report = HeadroomCalculator.Compute([Node("a", null, 10)]);

        Assert.False(report.Judged);
        Assert.True(report.SurvivesLargestLoss);
    }
}

/// <summary>The headroom health check and the operator API's report on a real pool.</summary>
public sealed class HeadroomHealthTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Health_LargestNodeCannotBeLost_IsDegradedWithHttp200()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        using var http = new HttpClient();
        var root = new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority);
        Assert.Equal("Healthy", await http.GetStringAsync($"{root}/health"));

        var admin = pool.ApiService<ServerAdministration>();
        await admin.UpdateAsync(pool.ServerIds[0], new ServerAdministration.Update(null, null, null, null, false, 100, true), default);
        await admin.UpdateAsync(pool.ServerIds[1], new ServerAdministration.Update(null, null, null, null, false, 40, true), default);
        XmlAssert.Success(await pool.Client.CreateAsync("headroom-a"));
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Count == 1);
        owner.SetAttendees("headroom-a", 60, 0);
        await pool.PollAsync();

        // 60 users; losing the 100-user node leaves 40: 20 missing.
        var report = await pool.ApiService<HeadroomService>().ReportAsync(default);
        Assert.Equal(140, report.Capacity);
        Assert.Equal(60, report.Used);
        Assert.Equal(20, report.Missing);
        using var health = await http.GetAsync($"{root}/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Degraded", await health.Content.ReadAsStringAsync());

        await admin.UpdateAsync(pool.ServerIds[1], new ServerAdministration.Update(null, null, null, null, false, 100, true), default);
        Assert.Equal("Healthy", await http.GetStringAsync($"{root}/health"));
    }
}
