using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        services.AddSingleton<IOperatorTokenValidator, OperatorToken>();

        builder.AddScalelitePersistence();
        services.AddSingleton<DatabaseMigrator>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseMigrator>());
        services.AddHealthChecks().AddCheck<DatabaseMigrator>("migrations", tags: [ServiceDefaultsExtensions.ReadyTag]);

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

    /// <summary>
    /// PostgreSQL (EF Core) and Redis through Aspire's client integrations, which add their health checks, metrics and
    /// traces. The connection strings come from <c>ConnectionStrings__scalelite</c> / <c>ConnectionStrings__redis</c>,
    /// or from Scalelite's <c>DATABASE_URL</c> / <c>REDIS_URL</c> mapped onto them (<see cref="SettingCatalog.AddScaleliteEnvironment"/>).
    /// </summary>
    private static void AddScalelitePersistence(this IHostApplicationBuilder builder)
    {
        var postgres = builder.Configuration.GetConnectionString(ConnectionStrings.Postgres)
            ?? throw new InvalidOperationException("No PostgreSQL connection: set ConnectionStrings__scalelite or DATABASE_URL.");
        _ = builder.Configuration.GetConnectionString(ConnectionStrings.Redis)
            ?? throw new InvalidOperationException("No Redis connection: set ConnectionStrings__redis or REDIS_URL.");
        var telemetry = builder.ExportsTelemetry();

        builder.Services.AddDbContextFactory<ScaleliteDbContext>(o => o.UseNpgsql(postgres));
        builder.EnrichNpgsqlDbContext<ScaleliteDbContext>(settings =>
        {
            // Imports and placements run explicit transactions, which a retrying execution strategy refuses.
            settings.DisableRetry = true;
            // Unexported spans and metrics would still be recorded on every command.
            settings.DisableTracing = !telemetry;
            settings.DisableMetrics = !telemetry;
        });

        // The integration hands the multiplexer our logger; its connection steps at Information are noise, failures are not.
        builder.Logging.AddFilter("StackExchange.Redis", LogLevel.Warning);
        builder.AddRedisClient(ConnectionStrings.Redis, settings =>
        {
            // A span per Redis command would land on every join, the hottest path: no command tracing.
            settings.DisableTracing = true;
            // Connect on first use: a Redis that is down must not hold up the service's start (retries x connect timeout).
            settings.DisableAutoActivation = true;
        }, options =>
        {
            // Start without Redis and reconnect when it comes back: the state in it is rebuilt from the servers.
            options.AbortOnConnectFail = false;
            options.ConnectRetry = 3;
        });
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
        builder.Services.AddSingleton<UnresponsiveServers>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UnresponsiveServers>());
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
