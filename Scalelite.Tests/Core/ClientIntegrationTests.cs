using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Scalelite.Core;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using StackExchange.Redis;

namespace Scalelite.Tests.Core;

/// <summary>PostgreSQL and Redis through Aspire's client integrations, fed by Scalelite's own variables too.</summary>
public sealed class ClientIntegrationTests
{
    [Fact]
    public async Task AddScaleliteCore_ScaleliteUrls_ReachTheClientIntegrations()
    {
        await using var services = Build(new Dictionary<string, string>
        {
            ["DATABASE_URL"] = "postgres://lb:pw@db.example:6432/pool",
            ["REDIS_URL"] = "redis://:secret@cache.example:6380/2",
        });

        await using var db = await services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync();
        Assert.Equal("Host=db.example;Port=6432;Username=lb;Password=pw;Database=pool", db.Database.GetConnectionString());
        var redis = services.GetRequiredService<IOptions<ConfigurationOptions>>().Value;
        var endpoint = Assert.IsType<System.Net.DnsEndPoint>(Assert.Single(redis.EndPoints));
        Assert.Equal(("cache.example", 6380), (endpoint.Host, endpoint.Port));
        Assert.Equal("secret", redis.Password);
        Assert.Equal(2, redis.DefaultDatabase);
        Assert.False(redis.AbortOnConnectFail);
    }

    [Fact]
    public async Task AddScaleliteCore_Defaults_NoRetriesNoUnreadTracingAndIntegrationHealthChecks()
    {
        await using var services = Build(new Dictionary<string, string>
        {
            ["ConnectionStrings__scalelite"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=scalelite",
            ["ConnectionStrings__redis"] = "127.0.0.1:1",
        });

        await using var db = await services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync();
        // Explicit transactions need a strategy that does not retry.
        Assert.False(db.Database.CreateExecutionStrategy().RetriesOnFailure);
        // Without an OTLP endpoint no tracer is built (the Redis integration would otherwise trace every command).
        Assert.Null(services.GetService<TracerProvider>());
        var checks = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name).ToList();
        Assert.Contains(HealthCheckNames.Postgres, checks);
        // Redis's check is the breaker's, which answers at once while Redis is known down, in place of the integration's.
        var redis = Assert.Single(services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, r => r.Name == HealthCheckNames.Redis);
        Assert.IsType<Scalelite.Core.State.RedisBreaker>(redis.Factory(services));
    }

    [Fact]
    public async Task AddScaleliteCore_RedisTimeout_BoundsEveryRedisWaitAndCommandsFailFastWhileDisconnected()
    {
        await using var services = Build(new Dictionary<string, string>
        {
            ["ConnectionStrings__scalelite"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=scalelite",
            ["ConnectionStrings__redis"] = "127.0.0.1:1",
            ["Redis__Timeout"] = "0.5",
        });

        var redis = services.GetRequiredService<IOptions<ConfigurationOptions>>().Value;
        Assert.Equal((500, 500, 500), (redis.SyncTimeout, redis.AsyncTimeout, redis.ConnectTimeout));
        Assert.False(redis.BacklogPolicy.QueueWhileDisconnected);
    }

    private static ServiceProvider Build(Dictionary<string, string> environment)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(environment.Where(e => e.Key.Contains("__", StringComparison.Ordinal))
            .Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)));
        builder.Configuration.AddScaleliteEnvironment(name => environment.GetValueOrDefault(name));
        builder.AddScaleliteCore();
        return builder.Services.BuildServiceProvider();
    }
}
