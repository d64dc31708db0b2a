using Microsoft.AspNetCore.Diagnostics;
using Scalelite.Api.Apis;
using Scalelite.Api.Bbb;
using Scalelite.Api.Meetings;
using Scalelite.Api.Monitoring;
using Scalelite.Api.Recordings;
using Scalelite.Api.Tenancy;
using Scalelite.Core;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool.Capacity;
using Scalelite.Core.State;

namespace Scalelite.Api.Extensions;

public static class Extensions
{
    /// <summary>Everything the API needs besides the service defaults.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddScaleliteCore();
        builder.AddServerDirectory();
        builder.AddTenantDirectory();
        builder.AddMeetingPlacement();
        builder.Services.AddOptions<ScaleliteOptions>()
            .Validate(o => o.SecretList().Count > 0, "No load-balancer secret: set LOADBALANCER_SECRET.");

        // Long create calls (many meta_ parameters) must reach our own length check, which answers
        // with BBB XML, instead of Kestrel's bare 414/431.
        builder.AddRequestLimits();

        builder.Services.AddSingleton<BbbRequestReader>();
        builder.Services.AddSingleton<ParameterRules>();
        builder.Services.AddSingleton<VoiceBridges>();
        builder.Services.AddSingleton<Scalelite.Core.State.MeetingOwnerCache>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Scalelite.Core.State.MeetingOwnerCache>());
        builder.Services.AddSingleton(sp =>
        {
            var backlog = ActivatorUtilities.CreateInstance<OwnershipBacklog>(sp);
            // What was placed while Redis was down is recorded in it when it answers again.
            sp.GetRequiredService<IRedisBreaker>().OnRecovery(backlog.RecoverAsync);
            return backlog;
        });
        builder.Services.AddSingleton<MeetingLocator>();
        builder.Services.AddSingleton<CallbackCapture>();
        builder.Services.AddSingleton<Tenancy.TenantAdmission>();
        builder.Services.AddSingleton<CallbackOutbox>();
        builder.Services.AddSingleton<AnalyticsRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CallbackOutbox>());
        builder.Services.AddSingleton<MeetingCreator>();
        builder.Services.AddSingleton<MeetingList>();
        builder.Services.AddSingleton<BbbServices>();
        builder.AddDatabaseOutageHandling();

        // The operator API: its OpenAPI document, and the headroom check that turns /health Degraded (still HTTP 200).
        builder.Services.AddOpenApi("v1", OperatorApi.ConfigureOpenApi);
        builder.Services.AddHealthChecks().AddCheck<HeadroomHealthCheck>(HeadroomHealthCheck.Name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        builder.AddRecordingApi();
        builder.AddFsApi();
        builder.AddApiMonitoring();
        return builder;
    }

    /// <summary>The API's routes, and a last-resort error answer that stays BBB XML on BBB paths.</summary>
    public static WebApplication MapApplicationEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler(errors => errors.Run(async context =>
        {
            var path = context.Request.Path;
            var failure = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var ours = path.StartsWithSegments(AdminApi.Prefix) || path.StartsWithSegments(BbbApi.Prefix);
            // Redis being down is logged by its breaker, once, however many calls it fails.
            if (ours && (failure is null || !context.RequestServices.GetRequiredService<IRedisBreaker>().Trips(failure)))
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Scalelite.Api.Errors")
                    .LogError(failure, "{Method} {Path} failed", context.Request.Method, path.Value);
            }

            if (path.StartsWithSegments(AdminApi.Prefix))
            {
                await AdminApi.Failed(BbbError.Internal("An internal error occurred."), StatusCodes.Status500InternalServerError).ExecuteAsync(context);
                return;
            }

            if (path.StartsWithSegments(BbbApi.Prefix))
            {
                context.RequestServices.GetRequiredService<ApiOutcomes>().CountFailure(
                    context.Request.RouteValues["call"] as string ?? ApiOutcomes.OtherCall, (failure as BbbException)?.Error.MessageKey ?? "internalError");
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = BbbResults.XmlContentType;
                var error = failure is BbbException bbb ? bbb.Error : BbbError.Internal("An internal error occurred.");
                await context.Response.Body.WriteAsync(BbbXml.Failed(error));
                return;
            }

            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }));

        app.UseOperatorApiAuthentication();
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ScaleliteOptions>>().Value.MultitenancyEnabled)
        {
            app.UseTenantPaths();
        }

        // Routing runs inside the handler above, so that even a routing failure answers in XML.
        app.UseRouting();
        app.MapBbbApi();
        app.MapAdminApi();
        app.MapTenantAdminApi();
        app.MapOperatorApi();
        app.MapTenantOperatorApi();
        app.MapOpenApi();
        app.MapRecordingsApi();
        app.MapPlaybackApi();
        app.MapFsApi();
        app.MapRootApi();
        return app;
    }
}
