using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Capacity;
using Scalelite.Core.Pool.Health;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.Pool.Placement;
using Scalelite.Core.State;
using Scalelite.Core.Tenancy;
using StackExchange.Redis;

namespace Scalelite.Core;

/// <summary>Wiring shared by every service: settings, PostgreSQL, Redis, the BBB client and the pool's policies.</summary>
public static class CoreServiceExtensions
{
    public static IHostApplicationBuilder AddScaleliteCore(this IHostApplicationBuilder builder)
    {
        builder.Configuration.AddScaleliteEnvironment();
        var services = builder.Services;

        services.AddOptions<ScaleliteOptions>().BindConfiguration(ScaleliteOptions.Section).ValidateDataAnnotations()
            .Validate(o => TryParse(() => o.AcceptedAlgorithms()), "LOADBALANCER_CHECKSUM_ALGORITHM lists an unknown algorithm (use SHA1, SHA256, SHA384, SHA512).")
            .Validate(o => !o.MultitenancyEnabled, "MULTITENANCY_ENABLED=true is not supported yet: every request is served as the single default tenant. Unset it.")
            .ValidateOnStart();
        services.AddOptions<LoadOptions>().BindConfiguration(LoadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PollerOptions>().BindConfiguration(PollerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BackendOptions>().BindConfiguration(BackendOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);

        var postgres = builder.Configuration.GetConnectionString(ConnectionStrings.Postgres)
            ?? throw new InvalidOperationException("No PostgreSQL connection: set ConnectionStrings__scalelite or DATABASE_URL.");
        services.AddDbContextFactory<ScaleliteDbContext>(o => o.UseNpgsql(postgres, npgsql => npgsql.EnableRetryOnFailure(0)));
        services.AddSingleton<DatabaseMigrator>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseMigrator>());

        var redis = builder.Configuration.GetConnectionString(ConnectionStrings.Redis)
            ?? throw new InvalidOperationException("No Redis connection: set ConnectionStrings__redis or REDIS_URL.");
        var redisOptions = ConfigurationOptions.Parse(redis);
        redisOptions.AbortOnConnectFail = false;
        redisOptions.ConnectRetry = 3;
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redisOptions));

        services.AddHealthChecks()
            .AddNpgSql(postgres, name: "postgresql", tags: [ServiceDefaultsExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), name: "redis", tags: [ServiceDefaultsExtensions.ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<DatabaseMigrator>("migrations", tags: [ServiceDefaultsExtensions.ReadyTag]);

        services.AddSingleton<BbbClient>();
        services.AddSingleton<MeetingRegistry>();
        services.AddSingleton<LoadRanking>();
        services.AddSingleton<LoadCalculator>();
        services.AddSingleton<HealthPolicy>();
        services.AddSingleton<ServerProbe>();
        services.AddSingleton<ServerHealth>();
        services.AddSingleton<UnsavedVerdicts>();
        services.AddSingleton<ServerAdministration>();
        services.AddScaleliteLifecycle();
        services.AddSingleton<ITenantResolver, SingleTenantResolver>();
        return builder;
    }

    /// <summary>The in-memory server snapshot the API serves hot paths from.</summary>
    public static IHostApplicationBuilder AddServerDirectory(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServerDirectory>();
        builder.Services.AddSingleton<IServerDirectory>(sp => sp.GetRequiredService<ServerDirectory>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ServerDirectory>());
        builder.Services.AddHealthChecks().AddCheck<ServerDirectory>("server-directory", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }

    /// <summary>Placement of new meetings, and the join load it counts (gathered in memory, flushed by a timer).</summary>
    public static IHostApplicationBuilder AddMeetingPlacement(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IPlacementPolicy, LeastLoadedPlacementPolicy>();
        builder.Services.AddSingleton<JoinLoadBuffer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JoinLoadBuffer>());
        builder.Services.AddSingleton<MeetingPlacement>();
        return builder;
    }

    /// <summary>The node lifecycle (guard rails, audit trail) and the capacity report.</summary>
    private static IServiceCollection AddScaleliteLifecycle(this IServiceCollection services)
    {
        services.AddOptions<LifecycleOptions>().BindConfiguration(LifecycleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ServerEventLog>();
        services.AddSingleton<AdmissionPolicy>();
        services.AddSingleton<AdmissionProbe>();
        services.AddSingleton<IRemovalGuard, MeetingsRemovalGuard>();
        services.AddSingleton<IRemovalGuard, Scalelite.Core.Recordings.PendingRecordingsRemovalGuard>();
        Scalelite.Core.Recordings.RecordingServiceExtensions.AddRecordingOptions(services);
        services.AddSingleton<ServerLifecycle>();
        services.AddSingleton<HeadroomService>();
        return services;
    }

    private static bool TryParse(Action parse)
    {
        try
        {
            parse();
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
