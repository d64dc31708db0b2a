using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Scalelite.Api.Meetings;
using Scalelite.Core.Bbb;
using Scalelite.Core.Meetings.History;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Capacity;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Apis;

/// <summary>
/// Our own JSON admin API (<c>/api/v1/</c>) for what Scalelite's lacks: drain with progress, admission probes,
/// guarded removal, panic without ending, the audit trail, the headroom report and the meeting history. The <c>scalelite</c> CLI uses it.
/// </summary>
/// <remarks>
/// Authentication: <c>Authorization: Bearer SECRET</c> with an admin secret (<c>Scalelite__AdminSecrets</c>, by
/// default the load-balancer secrets; never a tenant's), compared in
/// constant time. Chosen over Scalelite's checksum scheme because that checksum covers the call name and the
/// query string but not a JSON body, can be replayed, and no generic HTTP client or OpenAPI tool knows it;
/// a bearer token over TLS is what those tools speak. The caller may name itself in <c>X-Scalelite-Actor</c>
/// (the CLI sends <c>cli:USER</c>); the name goes into the audit trail.
/// </remarks>
public static class OperatorApi
{
    public const string Prefix = "/api/v1";
    public const string ActorHeader = "X-Scalelite-Actor";

    public static IEndpointRouteBuilder MapOperatorApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("operator");
        api.MapGet("/servers", ListServers).WithSummary("All servers with their state, health, load and capacity.");
        api.MapPost("/servers", AddServer).WithSummary("Adds a server, disabled, and probes it at once; under the id given, if any.");
        api.MapGet("/servers/{id}", GetServer).WithSummary("One server.");
        api.MapPatch("/servers/{id}", UpdateServer).WithSummary("Changes a server's secret, load multiplier, tag or capacity.");
        api.MapDelete("/servers/{id}", RemoveServer).WithSummary("Removes a server; refused while it has meetings unless force=true.");
        api.MapPost("/servers/{id}/enable", EnableServer).WithSummary("Enables a server; refused (409) with the reasons until it is admitted.");
        api.MapPost("/servers/{id}/cordon", CordonServer).WithSummary("Cordons a server: no new meetings, running ones continue.");
        api.MapPost("/servers/{id}/disable", DisableServer).WithSummary("Disables a server at once.");
        api.MapPost("/servers/{id}/drain", DrainServer).WithSummary("Cordons a server and, with waitSeconds, waits until its meetings ended and it is disabled.");
        api.MapGet("/servers/{id}/drain", DrainStatus).WithSummary("Where the drain of a server stands.");
        api.MapPost("/servers/{id}/probe", ProbeServer).WithSummary("Probes a server now (optionally with a test meeting) and says whether it may be enabled.");
        api.MapPost("/servers/{id}/panic", PanicServer).WithSummary("Forgets a server's meetings, optionally ends them, and disables it unless keepState.");
        api.MapGet("/servers/{id}/events", ServerEvents).WithSummary("The audit trail of one server, newest first.");
        api.MapGet("/events", PoolEvents).WithSummary("The audit trail of the pool, newest first.");
        api.MapGet("/headroom", Headroom).WithSummary("Used and free capacity, and whether the pool survives losing its largest node (N+1).");
        api.MapGet("/alerts", OperatorAlerts.List).WithSummary("The active alerts, as the poller's evaluator last saw them.");
        api.MapGet("/meetings/history", MeetingHistoryOf).WithSummary("A meeting ID's history: each meeting under it with its placement, joins, end and recordings.");
        api.MapGet("/meetings/info", MeetingInfoOf).WithSummary("A running meeting's owner and what the owner's getMeetingInfo answers, as Scalelite's meetings:info shows them.");
        return app;
    }

    /// <summary>The OpenAPI document describes this API only (the BBB and Scalelite APIs have their own specifications).</summary>
    public static void ConfigureOpenApi(Microsoft.AspNetCore.OpenApi.OpenApiOptions options)
    {
        options.ShouldInclude = description => description.RelativePath?.StartsWith(Prefix[1..], StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Scalelite operator API";
            document.Info.Description = "Node lifecycle, admission, drain, audit trail and headroom. Send 'Authorization: Bearer LOADBALANCER_SECRET'; "
                + $"name yourself for the audit trail in '{ActorHeader}'.";
            return Task.CompletedTask;
        });
    }

    public static async Task<IResult> ListServers(ServerAdministration admin, CancellationToken ct) =>
        TypedResults.Ok((await admin.ListAsync(ct)).Select(ServerStatus.From).ToList());

    public static async Task<IResult> GetServer(string id, ServerAdministration admin, CancellationToken ct) =>
        await admin.FindAsync(id, ct) is { } server ? TypedResults.Ok(ServerStatus.From(server)) : NotFound(id);

    public static async Task<IResult> AddServer(AddServerRequest request, HttpContext context, ServerAdministration admin, AdmissionPolicy admission, IServerDirectory directory, CancellationToken ct)
    {
        var result = await admin.AddAsync(request.Url ?? string.Empty, request.Secret ?? string.Empty, request.LoadMultiplier, request.Tag, ct,
            request.Capacity, ActorOf(context, request.Reason), request.Id);
        return await AnswerAsync(request.Id, result, directory, () =>
        {
            var verdict = admission.Evaluate(result.Server!);
            return TypedResults.Json(new AdmissionResponse(ServerStatus.From(result.Server!), verdict.Admitted, verdict.Reasons), statusCode: StatusCodes.Status201Created);
        }, ct);
    }

    public static async Task<IResult> UpdateServer(string id, UpdateServerRequest request, HttpContext context, ServerAdministration admin, IServerDirectory directory, CancellationToken ct)
    {
        var update = new ServerAdministration.Update(null, request.LoadMultiplier, request.Secret, request.Tag, request.Tag is not null,
            request.ClearCapacity ? null : request.Capacity, request.ClearCapacity || request.Capacity is not null);
        var result = await admin.UpdateAsync(id, update, ct, ActorOf(context, request.Reason));
        return await AnswerAsync(id, result, directory, () => TypedResults.Ok(ServerStatus.From(result.Server!)), ct);
    }

    public static Task<IResult> EnableServer(string id, [FromBody] StateRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct) =>
        ChangeStateAsync(id, ServerState.Enabled, request, context, lifecycle, directory, ct);

    public static Task<IResult> CordonServer(string id, [FromBody] StateRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct) =>
        ChangeStateAsync(id, ServerState.Cordoned, request, context, lifecycle, directory, ct);

    public static Task<IResult> DisableServer(string id, [FromBody] StateRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct) =>
        ChangeStateAsync(id, ServerState.Disabled, request, context, lifecycle, directory, ct);

    public static async Task<IResult> DrainServer(string id, [FromBody] DrainRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct)
    {
        var (result, progress) = await lifecycle.DrainAsync(id, ActorOf(context, request?.Reason), ct);
        if (!result.Succeeded)
        {
            return NotFound(id);
        }

        await directory.RefreshAsync(ct);
        if (request?.WaitSeconds is > 0 and var wait && !progress!.Drained)
        {
            progress = await lifecycle.WaitForDrainAsync(id, TimeSpan.FromSeconds(wait), ct);
            await directory.RefreshAsync(ct);
        }

        return progress is null ? NotFound(id) : TypedResults.Ok(DrainView.From(progress));
    }

    public static async Task<IResult> DrainStatus(string id, ServerLifecycle lifecycle, CancellationToken ct) =>
        await lifecycle.DrainProgressAsync(id, ct) is { } progress ? TypedResults.Ok(DrainView.From(progress)) : NotFound(id);

    public static async Task<IResult> ProbeServer(string id, [FromBody] ProbeRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct)
    {
        var (result, verdict) = await lifecycle.ProbeAsync(id, request?.AdmissionTest ?? false, ActorOf(context, null), ct);
        if (!result.Succeeded)
        {
            return NotFound(id);
        }

        await directory.RefreshAsync(ct);
        return TypedResults.Ok(new AdmissionResponse(ServerStatus.From(result.Server!), verdict!.Admitted, verdict.Reasons));
    }

    public static async Task<IResult> PanicServer(string id, [FromBody] PanicRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct)
    {
        var (result, meetings) = await lifecycle.PanicAsync(id, request?.EndMeetings ?? true, request?.KeepState ?? false, ActorOf(context, request?.Reason), ct);
        if (!result.Succeeded)
        {
            return NotFound(id);
        }

        await directory.RefreshAsync(ct);
        return TypedResults.Ok(new PanicResponse(ServerStatus.From(result.Server!), meetings, request?.EndMeetings ?? true));
    }

    public static async Task<IResult> RemoveServer(string id, bool? force, string? reason, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct)
    {
        var result = await lifecycle.RemoveAsync(id, force ?? false, ActorOf(context, reason), ct);
        return await AnswerAsync(id, result, directory, () => TypedResults.Ok(new MessageResponse($"Server id={id} was removed")), ct);
    }

    public static async Task<IResult> ServerEvents(string id, int? limit, ServerEventLog events, CancellationToken ct) =>
        TypedResults.Ok((await events.ListAsync(id, limit ?? 100, ct)).Select(EventView.From).ToList());

    public static async Task<IResult> PoolEvents(string? serverId, int? limit, ServerEventLog events, CancellationToken ct) =>
        TypedResults.Ok((await events.ListAsync(serverId, limit ?? 100, ct)).Select(EventView.From).ToList());

    public static async Task<IResult> Headroom(HeadroomService headroom, CancellationToken ct)
    {
        var report = await headroom.ReportAsync(ct);
        return TypedResults.Ok(HeadroomView.From(report));
    }

    /// <summary>The meeting ID is a query parameter: a path segment could not carry a meeting ID holding '/'.</summary>
    public static async Task<IResult> MeetingHistoryOf(string? meetingId, string? tenant, MeetingHistoryQuery history, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(meetingId))
        {
            return Problem(StatusCodes.Status400BadRequest, "Name the meeting: ?meetingId=ID (and &tenant=T for another tenant than the default).");
        }

        return await history.FindAsync(tenant ?? Tenant.DefaultId, meetingId, ct) is { } story
            ? TypedResults.Ok(story)
            : Problem(StatusCodes.Status404NotFound, $"No history of meeting {meetingId}: never created through this pool, or ended more than MEETING_HISTORY_DAYS ago.");
    }

    /// <summary>
    /// Asks the meeting's owner itself, as <c>rake meetings:info</c> does, so that the answer names the server that
    /// actually holds the meeting (the BBB API's getMeetingInfo does not say which one it asked).
    /// </summary>
    public static async Task<IResult> MeetingInfoOf(string? meetingId, string? tenant, MeetingLocator locator, BbbClient client, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(meetingId))
        {
            return Problem(StatusCodes.Status400BadRequest, "Name the meeting: ?meetingId=ID (and &tenant=T for another tenant than the default).");
        }

        var (outcome, server) = await locator.LocateAsync(tenant ?? Tenant.DefaultId, meetingId, ct);
        if (outcome == MeetingLocator.Outcome.NotFound)
        {
            return Problem(StatusCodes.Status404NotFound, $"No meeting {meetingId} is running in the pool.");
        }

        var response = await client.GetAsync(server!, "getMeetingInfo", new BbbParameters([new("meetingID", meetingId)]), ct: ct);
        if (!response.Answered)
        {
            return Problem(StatusCodes.Status502BadGateway, $"Unable to access meeting on server {server!.Id} ({server.Url}): {response.Error}");
        }

        if (!response.IsSuccess)
        {
            return Problem(StatusCodes.Status502BadGateway, $"Server {server!.Id} answered {response.MessageKey}: {response.Message}");
        }

        var metadata = response.Xml!.Root!.Element("metadata")?.Elements().GroupBy(e => e.Name.LocalName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal) ?? [];
        return TypedResults.Ok(new MeetingInfoResponse(server!.Id, server.Url, response.Element("meetingID") ?? meetingId, response.Element("meetingName"),
            response.Element("internalMeetingID"), response.Element("createDate"), response.Element("recording"), metadata));
    }

    private static async Task<IResult> ChangeStateAsync(string id, ServerState target, StateRequest? request, HttpContext context, ServerLifecycle lifecycle, IServerDirectory directory, CancellationToken ct)
    {
        var result = await lifecycle.SetStateAsync(id, target, ActorOf(context, request?.Reason), ct, request?.AdmissionTest);
        return await AnswerAsync(id, result, directory, () => TypedResults.Ok(ServerStatus.From(result.Server!)), ct);
    }

    /// <summary>A change's outcome as HTTP: 404, 400 or 409 with the reason, or success once this replica sees the change.</summary>
    private static async Task<IResult> AnswerAsync(string? id, LifecycleResult result, IServerDirectory directory, Func<IResult> success, CancellationToken ct)
    {
        switch (result.Status)
        {
            case LifecycleStatus.Done:
                await directory.RefreshAsync(ct);
                return success();
            case LifecycleStatus.NotFound:
                return NotFound(id);
            case LifecycleStatus.Invalid:
                return Problem(StatusCodes.Status400BadRequest, result.Error!);
            default:
                return Problem(StatusCodes.Status409Conflict, result.Error!);
        }
    }

    private static Actor ActorOf(HttpContext context, string? reason)
    {
        var name = context.Request.Headers[ActorHeader].ToString();
        return new Actor(string.IsNullOrWhiteSpace(name) ? "operator-api" : name.Trim(), string.IsNullOrWhiteSpace(reason) ? null : reason.Trim());
    }

    /// <summary>
    /// Requires the load-balancer secret as a bearer token on every <c>/api/v1</c> request, as middleware ahead of
    /// routing, so that nothing (not even body binding) happens for an unauthenticated caller. The OpenAPI document
    /// stays public: it describes the API, it holds no secret.
    /// </summary>
    public static IApplicationBuilder UseOperatorApiAuthentication(this IApplicationBuilder app) =>
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Prefix), branch => branch.Use(async (http, next) =>
        {
            if (OperatorBearer.IsPresented(http))
            {
                await next(http);
                return;
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Problem(StatusCodes.Status401Unauthorized, "Send the admin secret (by default the load-balancer secret) as 'Authorization: Bearer SECRET'.").ExecuteAsync(http);
        }));

    private static JsonHttpResult<MessageResponse> NotFound(string? id) => Problem(StatusCodes.Status404NotFound, $"Couldn't find server with id={id}");

    private static JsonHttpResult<MessageResponse> Problem(int status, string error) => TypedResults.Json(new MessageResponse(error), statusCode: status);
}

public sealed record MessageResponse(string Message);

/// <summary>A running meeting as its owner's getMeetingInfo describes it, with the owner.</summary>
public sealed record MeetingInfoResponse(
    string ServerId, string ServerUrl, string MeetingId, string? MeetingName, string? InternalMeetingId, string? CreateDate, string? Recording,
    IReadOnlyDictionary<string, string> Metadata);

// Id is optional: the server's id (letters, digits, '_', '.', '-'); one already taken is refused with 409.
public sealed record AddServerRequest(string? Url, string? Secret, double? LoadMultiplier, string? Tag, int? Capacity, string? Reason, string? Id = null);

public sealed record UpdateServerRequest(string? Secret, double? LoadMultiplier, string? Tag, int? Capacity, bool ClearCapacity, string? Reason);

public sealed record StateRequest(string? Reason, bool? AdmissionTest);

public sealed record DrainRequest(string? Reason, double? WaitSeconds);

public sealed record ProbeRequest(bool? AdmissionTest);

public sealed record PanicRequest(bool? EndMeetings, bool? KeepState, string? Reason);

public sealed record AdmissionResponse(ServerStatus Server, bool Admitted, IReadOnlyList<string> Reasons);

public sealed record PanicResponse(ServerStatus Server, int Meetings, bool Ended);

/// <summary>Where a drain stands; <c>drained</c> once the server is disabled.</summary>
public sealed record DrainView(string ServerId, string State, bool Online, int MeetingsReported, int MeetingsOwned, bool Drained, bool TimedOut)
{
    public static DrainView From(DrainProgress p) =>
        new(p.ServerId, p.State.ToString().ToLowerInvariant(), p.Online, p.MeetingsReported, p.MeetingsOwned, p.Drained, p.TimedOut);
}

public sealed record HeadroomServerView(string Id, string Url, string State, bool Online, int? Capacity, int Users, bool Counted);

public sealed record HeadroomReportView(
    bool Judged, int Capacity, int Used, int Free, string? LargestServerId, int LargestCapacity, int CapacityWithoutLargest,
    bool SurvivesLargestLoss, int Missing, IReadOnlyList<string> Undeclared, IReadOnlyList<HeadroomServerView> Servers);

public sealed record HeadroomView(HeadroomReportView Report, string Summary)
{
    public static HeadroomView From(HeadroomReport r) => new(
        new HeadroomReportView(r.Judged, r.Capacity, r.Used, r.Free, r.LargestServerId, r.LargestCapacity, r.CapacityWithoutLargest,
            r.SurvivesLargestLoss, r.Missing, r.Undeclared,
            [.. r.Servers.Select(s => new HeadroomServerView(s.Id, s.Url, s.State.ToString().ToLowerInvariant(), s.Online, s.Capacity, s.Users, s.Counted))]),
        r.Summary);
}

/// <summary>A server as the operator API shows it: everything of <c>rake status</c> and more.</summary>
public sealed record ServerStatus(
    string Id,
    string Url,
    string Secret,
    string? Tag,
    string State,
    bool Online,
    int Meetings,
    int Users,
    int LargestMeeting,
    int Videos,
    double? Load,
    double LoadMultiplier,
    int? Capacity,
    string? BbbVersion,
    DateTimeOffset? LastPolledAt,
    string? LastPollError)
{
    public static ServerStatus From(Server s) => new(
        s.Id, s.Url, s.Secret, s.Tag, s.State.ToString().ToLowerInvariant(), s.Online, s.Meetings, s.Users, s.LargestMeeting, s.Videos,
        s.Load, s.LoadMultiplier, s.Capacity, s.BbbVersion, s.LastPolledAt, s.LastPollError);
}

public sealed record EventView(long Id, string ServerId, string Action, string Actor, string? Reason, string? FromState, string? ToState, DateTimeOffset At)
{
    public static EventView From(ServerEvent e) => new(e.Id, e.ServerId, e.Action, e.Actor, e.Reason, e.FromState, e.ToState, e.At);
}
