using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Meetings;
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
            .ValidateOnStart();
        services.AddOptions<LoadOptions>().BindConfiguration(LoadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PollerOptions>().BindConfiguration(PollerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BackendOptions>().BindConfiguration(BackendOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration(RedisOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IOperatorTokenValidator, OperatorToken>();

        builder.AddScalelitePersistence();
        services.AddSingleton<DatabaseMigrator>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseMigrator>());
        services.AddHealthChecks().AddCheck<DatabaseMigrator>("migrations", tags: [ServiceDefaultsExtensions.ReadyTag]);

        services.AddSingleton<BbbClient>();
        services.AddSingleton<RedisBreaker>();
        services.AddSingleton<IRedisBreaker>(sp => sp.GetRequiredService<RedisBreaker>());
        // In place of the client integration's check (disabled below), under the name it would have had.
        services.AddHealthChecks().AddCheck<RedisBreaker>(HealthCheckNames.Redis, tags: [ServiceDefaultsExtensions.ReadyTag]);
        services.AddSingleton<MeetingRegistry>();
        services.AddSingleton<LoadRanking>();
        services.AddSingleton<LoadCalculator>();
        services.AddSingleton<HealthPolicy>();
        services.AddSingleton<ServerProbe>();
        services.AddSingleton<ServerHealth>();
        services.AddSingleton<UnsavedVerdicts>();
        services.AddSingleton<ServerAdministration>();
        services.AddMeetingEvents();
        services.AddScaleliteLifecycle();
        services.AddScaleliteTenancy();
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

        // The integration hands the multiplexer our logger. Its connection steps at Information are noise, and while Redis
        // is down it logs every reconnect attempt, several a second: RedisBreaker logs the outage instead, once.
        builder.Logging.AddFilter("StackExchange.Redis", LogLevel.Critical);
        var timeout = (int)(builder.Configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() ?? new RedisOptions()).CommandTimeout.TotalMilliseconds;
        builder.AddRedisClient(ConnectionStrings.Redis, settings =>
        {
            // A span per Redis command would land on every join, the hottest path: no command tracing.
            settings.DisableTracing = true;
            // Connect on first use: a Redis that is down must not hold up the service's start (retries x connect timeout).
            settings.DisableAutoActivation = true;
            // Its check PINGs with the command timeout every time; RedisBreaker's answers at once while Redis is known down.
            settings.DisableHealthChecks = true;
        }, options =>
        {
            // Start without Redis and reconnect when it comes back: the state in it is rebuilt from the servers.
            options.AbortOnConnectFail = false;
            options.ConnectRetry = 3;
            // A dead Redis must cost milliseconds: a short timeout, commands failing at once while there is no connection
            // rather than queued until it, and RedisBreaker in front so that even a frozen Redis is waited for once.
            options.SyncTimeout = options.AsyncTimeout = options.ConnectTimeout = timeout;
            options.BacklogPolicy = BacklogPolicy.FailFast;
            // Timeouts are checked at each heartbeat (every second by default): often enough for the timeout to hold.
            options.HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(timeout / 4, 50, 1000));
            // A steady pace of reconnects (the default backs off to 10 s), so recovery follows Redis's return closely.
            options.ReconnectRetryPolicy = new LinearRetry(1000);
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

    /// <summary>
    /// The tenants in memory for the request path: the snapshot, its reloads, and the resolver that reads a request's
    /// tenant from its host or path (with multitenancy off, every request is the default tenant's).
    /// </summary>
    public static IHostApplicationBuilder AddTenantDirectory(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<TenantDirectory>();
        if (builder.Configuration.GetValue<bool>($"{ScaleliteOptions.Section}:{nameof(ScaleliteOptions.MultitenancyEnabled)}"))
        {
            services.AddHostedService(sp => sp.GetRequiredService<TenantDirectory>());
            services.AddHealthChecks().AddCheck<TenantDirectory>("tenants", tags: [ServiceDefaultsExtensions.ReadyTag]);
            services.Replace(ServiceDescriptor.Singleton<ITenantResolver, MultiTenantResolver>());
        }

        return builder;
    }

    /// <summary>The tenants' durable record and the Redis state every service shares about them.</summary>
    private static IServiceCollection AddScaleliteTenancy(this IServiceCollection services)
    {
        services.AddOptions<TenancyOptions>().BindConfiguration(TenancyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ITenantResolver, SingleTenantResolver>();
        services.AddSingleton<TenantChanges>();
        services.AddSingleton<TenantMeetings>();
        services.AddSingleton<TenantUsageStore>();
        services.AddSingleton<TenantStore>();
        services.AddSingleton<TenantUsageRecorder>();
        return services;
    }

    /// <summary>Placement of new meetings, and the join load it counts (gathered in memory, flushed by a timer).</summary>
    public static IHostApplicationBuilder AddMeetingPlacement(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IPlacementPolicy, LeastLoadedPlacementPolicy>();
        builder.Services.AddSingleton<JoinLoadBuffer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JoinLoadBuffer>());
        builder.Services.AddSingleton<UnresponsiveServers>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UnresponsiveServers>());
        builder.Services.AddSingleton(sp =>
        {
            var placement = ActivatorUtilities.CreateInstance<MeetingPlacement>(sp);
            // The seats of meetings placed while Redis was down are written to it when it answers again.
            sp.GetRequiredService<IRedisBreaker>().OnRecovery(placement.RestoreHeldSeatsAsync);
            return placement;
        });
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
