using System.Collections.Frozen;
using Scalelite.Api.Bbb;
using Scalelite.Api.Meetings;
using Scalelite.Api.Monitoring;
using Scalelite.Core.Bbb;
using Scalelite.Core.Meetings;
using Scalelite.Core.Pool;
using Scalelite.Core.State;

namespace Scalelite.Api.Apis;

/// <summary>The BBB API facade: one route table mirroring BBB's, each call a small static handler.</summary>
public static class BbbApi
{
    public const string Prefix = "/bigbluebutton/api";

    [Flags]
    private enum Verbs { Get = 1, Post = 2, Both = Get | Post }

    private sealed record BbbCall(Verbs Verbs, Func<BbbRequest, BbbServices, Task<IResult>> Handle);

    private static readonly FrozenDictionary<string, BbbCall> Calls = new Dictionary<string, BbbCall>(StringComparer.Ordinal)
    {
        ["create"] = new(Verbs.Both, Create),
        ["join"] = new(Verbs.Get, Join),
        ["end"] = new(Verbs.Both, End),
        ["isMeetingRunning"] = new(Verbs.Both, IsMeetingRunning),
        ["getMeetingInfo"] = new(Verbs.Both, GetMeetingInfo),
        ["getMeetings"] = new(Verbs.Both, GetMeetings),
        ["insertDocument"] = new(Verbs.Post, InsertDocument),
        ["sendChatMessage"] = new(Verbs.Get, SendChatMessage),
        ["getRecordings"] = new(Verbs.Both, RecordingsApi.GetRecordings),
        ["publishRecordings"] = new(Verbs.Get, RecordingsApi.PublishRecordings),
        ["deleteRecordings"] = new(Verbs.Get, RecordingsApi.DeleteRecordings),
        ["updateRecordings"] = new(Verbs.Both, RecordingsApi.UpdateRecordings),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The calls of the route table (the bounded set of the metrics' <c>call</c> label).</summary>
    public static IEnumerable<string> CallNames => Calls.Keys;

    public static IEndpointRouteBuilder MapBbbApi(this IEndpointRouteBuilder app)
    {
        var build = app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Core.Configuration.ScaleliteOptions>>().Value.BuildNumber;
        app.MapMethods(Prefix, [HttpMethods.Get, HttpMethods.Head], () => Index(build));
        // The handlers' dependencies are singletons, bound once here: the join path then never opens a request scope.
        var services = app.ServiceProvider.GetRequiredService<BbbServices>();
        // Not a BBB call but BBB's servers posting back (no checksum): see AnalyticsRelay.
        var relay = app.ServiceProvider.GetRequiredService<AnalyticsRelay>();
        app.MapPost(AnalyticsRelay.Path, (Delegate)((HttpContext context) => relay.ReceiveAsync(context)));
        // Each call's outcome counters are found with its handler, in the same lookup.
        var outcomes = app.ServiceProvider.GetRequiredService<ApiOutcomes>();
        var calls = Calls.ToFrozenDictionary(c => c.Key, c => (Call: c.Value, Counts: outcomes.For(c.Key)), StringComparer.Ordinal);
        app.Map(Prefix + "/{call}", (string call, HttpContext context) => Dispatch(call, context, services, calls, outcomes));
        app.Map(Prefix + "/{**rest}", () =>
        {
            outcomes.CountFailure(ApiOutcomes.OtherCall, BbbError.UnsupportedRequest.MessageKey);
            return BbbResults.Failed(BbbError.UnsupportedRequest);
        });
        return app;
    }

    private static IResult Index(string? build) => BbbResults.Xml(BbbXml.Success(w =>
    {
        w.WriteElementString("version", "2.0");
        w.WriteElementString("apiVersion", "2.0");
        w.WriteElementString("bbbVersion", string.Empty);
        // Scalelite answers its BUILD_NUMBER (its images set the release tag), only when set.
        if (!string.IsNullOrEmpty(build))
        {
            w.WriteElementString("build", build);
        }
    }));

    private static async Task<IResult> Dispatch(
        string call, HttpContext context, BbbServices services, FrozenDictionary<string, (BbbCall Call, ApiOutcomes.CallCounts Counts)> calls, ApiOutcomes outcomes)
    {
        if (!calls.TryGetValue(call, out var entry) || !Allows(entry.Call.Verbs, context.Request.Method))
        {
            outcomes.CountFailure(ApiOutcomes.OtherCall, BbbError.UnsupportedRequest.MessageKey);
            return BbbResults.Failed(BbbError.UnsupportedRequest);
        }

        IResult result;
        if (RecordingsApi.WhenDisabled(call, services.Recordings) is { } stub)
        {
            result = stub;
        }
        else
        {
            var (request, error) = await services.Reader.ReadAsync(context, call);
            result = error is not null ? BbbResults.Failed(error) : await entry.Call.Handle(request!, services);
        }

        outcomes.Count(entry.Counts, result);
        return result;
    }

    private static bool Allows(Verbs verbs, string method) =>
        (HttpMethods.IsGet(method) && verbs.HasFlag(Verbs.Get)) || (HttpMethods.IsPost(method) && verbs.HasFlag(Verbs.Post));

    // Not cancelled when the LMS hangs up: once a server may have created the meeting, its owner must be recorded,
    // or the LMS's retry would place a second copy elsewhere. Backend timeouts still bound it.
    private static Task<IResult> Create(BbbRequest request, BbbServices s) => s.Creator.CreateAsync(request, CancellationToken.None);

    private static async Task<IResult> Join(BbbRequest request, BbbServices s)
    {
        if (request.Required("meetingID") is not { } meetingId)
        {
            return JoinFailed(request, BbbError.MissingMeetingId);
        }

        if (request.Required("fullName") is null)
        {
            return JoinFailed(request, BbbError.MissingFullName);
        }

        if (s.Tenancy.JoinRefusal(request.Tenant) is { } refused)
        {
            return BbbResults.Failed(refused);
        }

        var (outcome, server) = await s.Locator.LocateAsync(request.Tenant.Id, meetingId, request.HttpContext.RequestAborted);
        switch (outcome)
        {
            case MeetingLocator.Outcome.NotFound:
                return JoinFailed(request, BbbError.MeetingNotFound);
            case MeetingLocator.Outcome.Unavailable:
                return JoinFailed(request, BbbError.ServerUnavailable);
        }

        var parameters = s.Rules.ApplyJoin(request.Parameters, request.Tenant);
        s.JoinLoad.Add(server!.Id, LoadCalculator.JoinBump(server.LoadMultiplier));
        // Counted for the history in memory; the internal ID is looked up only when someone reads the Debug log.
        s.Events.Joined(request.Tenant.Id, meetingId, server, s.Events.LogsCalls ? await s.Locator.InternalMeetingIdAsync(request.Tenant.Id, meetingId) : null);
        if (string.Equals(parameters["redirect"], "false", StringComparison.OrdinalIgnoreCase))
        {
            return BbbResults.PassThrough(await s.Client.GetAsync(server, "join", parameters, ct: request.HttpContext.RequestAborted), "join");
        }

        return BbbResults.Redirect(s.Client.BuildUrl(server, "join", parameters));
    }

    /// <summary>A join error of ours: sent to <c>errorRedirectUrl</c> when the LMS gave one, as BBB sends it, else FAILED XML.</summary>
    /// <remarks>
    /// BBB redirects with <c>errors=[{"key":...,"message":...}]</c> added to the URL unless <c>redirect=false</c>.
    /// Only a call whose checksum passed gets here, so the redirect cannot be used to bounce strangers elsewhere.
    /// </remarks>
    private static IResult JoinFailed(BbbRequest request, BbbError error)
    {
        if (request["errorRedirectUrl"] is not { Length: > 0 } target
            || string.Equals(request["redirect"], "false", StringComparison.OrdinalIgnoreCase)
            || !Uri.TryCreate(target, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return BbbResults.Failed(error);
        }

        var errors = System.Text.Json.JsonSerializer.Serialize(new[] { new Dictionary<string, string> { ["key"] = error.MessageKey, ["message"] = error.Message } });
        var separator = string.IsNullOrEmpty(uri.Query) ? "?" : "&";
        var fragment = uri.Fragment;
        var withoutFragment = fragment.Length > 0 ? target[..^fragment.Length] : target;
        return BbbResults.ErrorRedirect($"{withoutFragment}{separator}errors={Uri.EscapeDataString(errors)}{fragment}", error);
    }

    private static async Task<IResult> End(BbbRequest request, BbbServices s)
    {
        if (request.Required("meetingID") is not { } meetingId)
        {
            return BbbResults.Failed(BbbError.MissingMeetingId);
        }

        var (outcome, server) = await s.Locator.LocateAsync(request.Tenant.Id, meetingId, request.HttpContext.RequestAborted);
        // A disabled server that still answers keeps running its meetings: end must reach it all the same.
        if (outcome == MeetingLocator.Outcome.NotFound || server is not { Online: true })
        {
            await s.Locator.ForgetAsync(request.Tenant.Id, meetingId);
            return BbbResults.Failed(BbbError.MeetingNotFound);
        }

        // Read before it is forgotten: the end is told with the ID the BBB node knows.
        var internalId = await s.Locator.InternalMeetingIdAsync(request.Tenant.Id, meetingId);
        var response = await s.Client.GetAsync(server, "end", request.Parameters, ct: request.HttpContext.RequestAborted);
        if (response.IsSuccess || response.MessageKey == "notFound")
        {
            await s.Locator.ForgetAsync(request.Tenant.Id, meetingId);
            s.Events.Ended(MeetingIdentity.On(server, request.Tenant.Id, meetingId, internalId), MeetingEndCause.Api,
                response.IsSuccess ? null : "the server no longer ran it");
        }

        return BbbResults.PassThrough(response, "end");
    }

    private static async Task<IResult> IsMeetingRunning(BbbRequest request, BbbServices s)
    {
        if (request.Required("meetingID") is not { } meetingId)
        {
            return BbbResults.Failed(BbbError.MissingMeetingId);
        }

        var (outcome, server) = await s.Locator.LocateAsync(request.Tenant.Id, meetingId, request.HttpContext.RequestAborted);
        if (outcome == MeetingLocator.Outcome.Found)
        {
            await ForwardedAsync(request, s, meetingId, server!);
            var response = await s.Client.GetAsync(server!, "isMeetingRunning", request.Parameters, ct: request.HttpContext.RequestAborted);
            if (response.IsSuccess)
            {
                return BbbResults.Xml(response.Body);
            }
        }

        return BbbResults.Xml(BbbXml.Success(w => w.WriteElementString("running", "false")));
    }

    private static Task<IResult> GetMeetingInfo(BbbRequest request, BbbServices s) => ForwardToOwner(request, s);

    private static Task<IResult> SendChatMessage(BbbRequest request, BbbServices s) => ForwardToOwner(request, s);

    private static async Task<IResult> InsertDocument(BbbRequest request, BbbServices s)
    {
        if (request.XmlBody is null)
        {
            return BbbResults.Failed(BbbError.UnsupportedContentType);
        }

        return await ForwardToOwner(request, s);
    }

    private static async Task<IResult> GetMeetings(BbbRequest request, BbbServices s) =>
        BbbResults.Xml(await s.Meetings.GetMeetingsAsync(s.Tenancy.MeetingListFilter(request.Tenant), request.HttpContext.RequestAborted));

    /// <summary>Sends the call, as it came, to the meeting's owner and passes its answer through.</summary>
    private static async Task<IResult> ForwardToOwner(BbbRequest request, BbbServices s)
    {
        if (request.Required("meetingID") is not { } meetingId)
        {
            return BbbResults.Failed(BbbError.MissingMeetingId);
        }

        var (outcome, server) = await s.Locator.LocateAsync(request.Tenant.Id, meetingId, request.HttpContext.RequestAborted);
        if (outcome != MeetingLocator.Outcome.Found)
        {
            return BbbResults.Failed(BbbError.MeetingNotFound);
        }

        await ForwardedAsync(request, s, meetingId, server!);
        BackendResponse response;
        if (request.XmlBody is { } body)
        {
            var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", request.XmlContentType ?? "application/xml");
            response = await s.Client.PostAsync(server!, request.Call, request.Parameters, content, ct: request.HttpContext.RequestAborted);
        }
        else
        {
            response = await s.Client.GetAsync(server!, request.Call, request.Parameters, ct: request.HttpContext.RequestAborted);
        }

        return BbbResults.PassThrough(response, request.Call);
    }

    /// <summary>Tells a forwarded call (trace tags; a Debug log, for which the internal ID is then looked up).</summary>
    private static async Task ForwardedAsync(BbbRequest request, BbbServices s, string meetingId, ServerSnapshot server) =>
        s.Events.Forwarded(request.Call, request.Tenant.Id, meetingId, server,
            s.Events.LogsCalls ? await s.Locator.InternalMeetingIdAsync(request.Tenant.Id, meetingId) : null);
}

/// <summary>What the BBB handlers depend on, bound in one go (all singletons).</summary>
public sealed record BbbServices(
    BbbRequestReader Reader,
    MeetingCreator Creator,
    MeetingLocator Locator,
    MeetingList Meetings,
    JoinLoadBuffer JoinLoad,
    ParameterRules Rules,
    BbbClient Client,
    RecordingServices Recordings,
    Tenancy.TenantAdmission Tenancy,
    MeetingEvents Events);
