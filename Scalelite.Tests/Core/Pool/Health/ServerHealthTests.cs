using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Scalelite.Core;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Health;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.State;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.Core.Pool.Health;

/// <summary>Applying a probe's result to a server, against real PostgreSQL (the record, the audit trail) and Redis (its meetings).</summary>
public sealed class ServerHealthTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const string Prober = "test-prober";
    private static readonly DateTimeOffset ProbedAt = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ApplyAsync_FailuresReachTheUnhealthyThreshold_GoesOfflineForgetsItsMeetingsAndIsAudited()
    {
        await using var env = await HealthEnvironment.StartAsync(infrastructure);
        var id = await env.AddAsync(new Server
        {
            Url = "http://bbb-1.test/bigbluebutton/api", Secret = "s", State = ServerState.Enabled, Online = true,
            Meetings = 2, Users = 9, LargestMeeting = 7, Videos = 1, Load = 9,
        });
        var other = await env.AddAsync(new Server { Url = "http://bbb-2.test/bigbluebutton/api", Secret = "s", State = ServerState.Enabled, Online = true });
        await env.Registry.AdoptAsync(string.Empty, "m1", id, ProbedAt, "i1", TimeSpan.FromHours(1));
        await env.Registry.AdoptAsync(string.Empty, "m2", id, ProbedAt, "i2", TimeSpan.FromHours(1));
        await env.Registry.AdoptAsync(string.Empty, "elsewhere", other, ProbedAt, "i3", TimeSpan.FromHours(1));

        // One failure is below the threshold (2): nothing is forgotten, the error is kept (clipped).
        var first = await env.ApplyAsync(id, ProbeResult.Failure(new string('x', 1500), ProbedAt), null);
        var server = await env.FindAsync(id);
        Assert.False(first.WentOffline);
        Assert.True(server.Online);
        Assert.Equal(1, server.UnhealthyCounter);
        Assert.Equal(9, server.Load);
        Assert.Equal(ServerHealth.MaxErrorLength, server.LastPollError!.Length);
        Assert.Equal(2, (await env.Registry.ServerMeetingsAsync(id)).Count);
        Assert.Empty(await env.Events.ListAsync(id, 10, default));

        var second = await env.ApplyAsync(id, ProbeResult.Failure("Connection refused", ProbedAt.AddMinutes(1)), null);
        server = await env.FindAsync(id);
        Assert.True(second.WentOffline);
        Assert.False(server.Online);
        Assert.Null(server.Load);
        Assert.Equal((0, 0, 0, 0), (server.Meetings, server.Users, server.LargestMeeting, server.Videos));
        Assert.Equal("Connection refused", server.LastPollError);
        Assert.Equal(ProbedAt.AddMinutes(1), server.LastPolledAt);
        Assert.Empty(await env.Registry.ServerMeetingsAsync(id));
        Assert.Null(await env.Registry.FindServerIdAsync(string.Empty, "m1"));
        Assert.Equal(other, await env.Registry.FindServerIdAsync(string.Empty, "elsewhere"));
        var offline = Assert.Single(await env.Events.ListAsync(id, 10, default));
        Assert.Equal((ServerActions.Offline, Prober, "Connection refused"), (offline.Action, offline.Actor, offline.Reason));
    }

    [Fact]
    public async Task ApplyAsync_SuccessesReachTheHealthyThreshold_UpdatesCountersVersionAndLoad_AndComesOnline()
    {
        await using var env = await HealthEnvironment.StartAsync(infrastructure);
        var id = await env.AddAsync(new Server { Url = "http://bbb-1.test/bigbluebutton/api", Secret = "s", LastPollError = "Connection refused" });

        var first = await env.ApplyAsync(id, new ProbeResult(true, [], null, ProbedAt, "3.0.4"), new ServerObservation(3, 20, 12, 4, 25.5));
        var server = await env.FindAsync(id);
        Assert.False(first.CameOnline);
        Assert.Equal((false, 1), (server.Online, server.HealthyCounter));
        Assert.Null(server.LastPollError);
        Assert.Equal("3.0.4", server.BbbVersion);
        Assert.Equal((3, 20, 12, 4), (server.Meetings, server.Users, server.LargestMeeting, server.Videos));
        Assert.Null(server.Load); // not placeable before it is online

        var second = await env.ApplyAsync(id, new ProbeResult(true, [], null, ProbedAt.AddMinutes(1)), new ServerObservation(3, 21, 13, 4, 26));
        server = await env.FindAsync(id);
        Assert.True(second.CameOnline);
        Assert.Equal((true, 0, 0), (server.Online, server.HealthyCounter, server.UnhealthyCounter));
        Assert.Equal("3.0.4", server.BbbVersion); // a probe that did not ask keeps the version known
        Assert.Equal(26, server.Load);
        Assert.Equal(21, server.Users);
        Assert.Equal(ProbedAt.AddMinutes(1), server.LastPolledAt);
        var online = Assert.Single(await env.Events.ListAsync(id, 10, default));
        Assert.Equal((ServerActions.Online, Prober), (online.Action, online.Actor));
    }

    [Fact]
    public async Task ApplyAsync_SuccessWithoutObservation_KeepsTheRecordedLoadAndResetsTheFailureStreak()
    {
        await using var env = await HealthEnvironment.StartAsync(infrastructure);
        var id = await env.AddAsync(new Server
        {
            Url = "http://bbb-1.test/bigbluebutton/api", Secret = "s", Online = true, UnhealthyCounter = 1, Meetings = 1, Users = 12, Load = 12,
        });

        var change = await env.ApplyAsync(id, new ProbeResult(true, [], null, ProbedAt), null);

        var server = await env.FindAsync(id);
        Assert.Equal(new HealthChange(true, true), change);
        Assert.Equal((true, 0), (server.Online, server.UnhealthyCounter));
        Assert.Equal((1, 12, 12.0), (server.Meetings, server.Users, server.Load!.Value));
        Assert.Empty(await env.Events.ListAsync(id, 10, default));
    }

    /// <summary>The core services on a database and a Redis database of their own.</summary>
    private sealed class HealthEnvironment(IHost host, string database) : IAsyncDisposable
    {
        public MeetingRegistry Registry => host.Services.GetRequiredService<MeetingRegistry>();

        public ServerEventLog Events => host.Services.GetRequiredService<ServerEventLog>();

        private IDbContextFactory<ScaleliteDbContext> Db => host.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>();

        public static async Task<HealthEnvironment> StartAsync(InfrastructureFixture infrastructure)
        {
            var database = await infrastructure.CreateDatabaseAsync("health");
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:scalelite"] = database,
                ["ConnectionStrings:redis"] = infrastructure.CreateRedisConnectionString(),
                ["Scalelite:Secrets"] = "health-secret",
                ["Poller:HealthyThreshold"] = "2",
                ["Poller:UnhealthyThreshold"] = "2",
                ["Logging:LogLevel:Default"] = "Warning",
            });
            builder.AddScaleliteCore();
            var host = builder.Build();
            await host.StartAsync();
            await host.Services.GetRequiredService<DatabaseMigrator>().Migrated.WaitAsync(TimeSpan.FromSeconds(30));
            return new HealthEnvironment(host, database);
        }

        public async Task<string> AddAsync(Server server)
        {
            await using var db = await Db.CreateDbContextAsync();
            db.Servers.Add(server);
            await db.SaveChangesAsync();
            return server.Id;
        }

        public async Task<Server> FindAsync(string id)
        {
            await using var db = await Db.CreateDbContextAsync();
            return await db.Servers.AsNoTracking().SingleAsync(s => s.Id == id);
        }

        /// <summary>Applies the probe as its callers do: on a tracked server, saved with the audit event afterwards.</summary>
        public async Task<HealthChange> ApplyAsync(string id, ProbeResult probe, ServerObservation? observed)
        {
            await using var db = await Db.CreateDbContextAsync();
            var server = await db.Servers.SingleAsync(s => s.Id == id);
            var change = await host.Services.GetRequiredService<ServerHealth>().ApplyAsync(db, server, probe, observed, Prober);
            await db.SaveChangesAsync();
            return change;
        }

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
            using var connection = new Npgsql.NpgsqlConnection(database);
            Npgsql.NpgsqlConnection.ClearPool(connection);
        }
    }
}
