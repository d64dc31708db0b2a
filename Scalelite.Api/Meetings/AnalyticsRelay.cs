using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Bbb;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Pool;
using Scalelite.Core.Recordings;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Meetings;

/// <summary>Receives a BBB server's analytics callback and queues it for the LMS that asked for it at create.</summary>
/// <remarks>
/// <para>At create, <see cref="CallbackCapture"/> keeps the LMS's <c>meta_analytics-callback-url</c> and hands the
/// server <see cref="Path"/> on this host instead: the server signs its post with its own secret, which the LMS does
/// not know. Here the server's token is checked (HS512, as BBB signs it) against the secrets of every registered
/// server, as Scalelite does: the post names a meeting, not a server, and a meeting that moved or ended may no longer
/// have an owner to ask. The meeting's tenant is the one whose create captured the LMS's URL. The body is then stored
/// as a <c>pending</c> analytics row of that tenant with <c>customer</c> added (the tenant's name, or <c>scalelite</c>
/// without tenants, as Scalelite sets it), and RecordingSync's callback sender delivers it signed with the tenant's
/// secret (the load balancer's for the default tenant), retrying and recording the outcome like a recording-ready
/// callback.</para>
/// <para>The server always gets 204, as Scalelite answers: a bad token, an unknown meeting or a store that does not
/// answer is logged, never reported back, because BBB does not retry and has nobody to tell.</para>
/// </remarks>
public sealed partial class AnalyticsRelay(
    IDbContextFactory<ScaleliteDbContext> databases,
    IServerDirectory servers,
    ITenantResolver tenants,
    TenantDirectory directory,
    TimeProvider time,
    ILogger<AnalyticsRelay> logger)
{
    public const string Path = "/bigbluebutton/api/analytics_callback";

    /// <summary>The name Scalelite puts in <c>customer</c> when the meeting has no tenant.</summary>
    public const string DefaultCustomer = "scalelite";

    /// <summary>Learning-dashboard data of a long meeting with many users runs to megabytes; past this it is not BBB's.</summary>
    private const int MaxBody = 32 * 1024 * 1024;

    /// <summary>The URL a BBB server is given in place of the LMS's analytics callback URL.</summary>
    public static string UrlFor(string baseUrl) => baseUrl + Path;

    public async Task<IResult> ReceiveAsync(HttpContext context)
    {
        try
        {
            await RelayAsync(context);
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e) || e is DbUpdateException or IOException)
        {
            Log.NotStored(logger, e.Message);
        }

        return Results.NoContent();
    }

    private async Task RelayAsync(HttpContext context)
    {
        var request = context.Request;
        var token = request.Headers.Authorization.ToString();
        token = token.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? token["Bearer ".Length..].Trim() : token.Trim();
        var secrets = servers.All.Select(s => s.Secret).ToList();
        if (token.Length == 0 || !HmacJwt.Verify(token, HmacJwt.HS512, secrets, time.GetUtcNow()))
        {
            Log.BadToken(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?");
            return;
        }

        if (request.ContentLength > MaxBody)
        {
            Log.Unreadable(logger, "body too large");
            return;
        }

        JsonObject? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonNode>(request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException e)
        {
            Log.Unreadable(logger, e.Message);
            return;
        }

        if (body?["meeting_id"] is not JsonValue meetingValue || !meetingValue.TryGetValue<string>(out var meetingId) || meetingId.Length == 0)
        {
            Log.Unreadable(logger, "no meeting_id");
            return;
        }

        var internalMeetingId = body["internal_meeting_id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        // The URL the server posts to names the tenant too (its host or /t/NAME), but only as a hint: the meeting's
        // tenant is the one whose create captured the LMS's URL, whatever host the post came in on.
        var hint = tenants.Resolve(request)?.Id;

        await using var db = await databases.CreateDbContextAsync(context.RequestAborted);
        var captured = db.Callbacks.Where(c => c.Kind == CallbackStatus.Analytics && c.Status == CallbackStatus.Captured && c.MeetingId == meetingId);
        // The internal ID names this session; a meeting ID reused since (by the same tenant or, once the first meeting
        // ended, another) names several, of which the hinted tenant's latest is the best guess.
        var found = await captured.Where(c => internalMeetingId != null && c.InternalMeetingId == internalMeetingId)
                .Select(c => new { c.TenantId, c.Url }).FirstOrDefaultAsync(context.RequestAborted)
            ?? await captured.OrderByDescending(c => c.TenantId == hint).ThenByDescending(c => c.CreatedAt)
                .Select(c => new { c.TenantId, c.Url }).FirstOrDefaultAsync(context.RequestAborted);
        if (found is null)
        {
            Log.NoCallback(logger, meetingId);
            return;
        }

        var (tenantId, url) = (found.TenantId, found.Url);
        if (CustomerOf(tenantId) is not { } customer)
        {
            Log.TenantGone(logger, meetingId, tenantId);
            return;
        }

        body["customer"] = customer;
        var now = time.GetUtcNow();
        db.Callbacks.Add(new Callback
        {
            TenantId = tenantId,
            MeetingId = meetingId,
            InternalMeetingId = internalMeetingId,
            Kind = CallbackStatus.Analytics,
            Url = url,
            Payload = body.ToJsonString(),
            Status = CallbackStatus.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        });
        await db.SaveChangesAsync(context.RequestAborted);
        Log.Queued(logger, meetingId, url);
    }

    /// <summary>What Scalelite puts in <c>customer</c>: the tenant's name, <c>scalelite</c> without one; null for a tenant removed since.</summary>
    private string? CustomerOf(string tenantId) => tenantId == Tenant.DefaultId ? DefaultCustomer : directory.FindById(tenantId)?.Name;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Analytics callback from {Remote} refused: its token is not signed by any server's secret, or has expired")]
        public static partial void BadToken(ILogger logger, string remote);

        [LoggerMessage(2, LogLevel.Warning, "Analytics callback ignored: {Reason}")]
        public static partial void Unreadable(ILogger logger, string reason);

        [LoggerMessage(3, LogLevel.Information, "Analytics callback for meeting {MeetingId} ignored: no LMS asked for it")]
        public static partial void NoCallback(ILogger logger, string meetingId);

        [LoggerMessage(4, LogLevel.Information, "Analytics callback for meeting {MeetingId} queued for {Url}")]
        public static partial void Queued(ILogger logger, string meetingId, string url);

        [LoggerMessage(5, LogLevel.Error, "Analytics callback could not be stored: {Error}")]
        public static partial void NotStored(ILogger logger, string error);

        [LoggerMessage(6, LogLevel.Information, "Analytics callback for meeting {MeetingId} ignored: its tenant {TenantId} no longer exists")]
        public static partial void TenantGone(ILogger logger, string meetingId, string tenantId);
    }
}
