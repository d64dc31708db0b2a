using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Importing;

namespace Scalelite.RecordingSync.Callbacks;

/// <summary>Delivers pending recording-ready and analytics callbacks, retrying with exponential backoff, and records each outcome.</summary>
/// <remarks>
/// Deliveries are rows in <c>callbacks</c>, written in the import's transaction, so a callback is never lost to a
/// crash and never announced for a recording that was not committed. Each due row is POSTed as BBB posts it
/// (<c>signed_parameters=&lt;JWT&gt;</c>, form-encoded), signed with the secret of the recording's tenant
/// (<see cref="ICallbackSecrets"/>); a 2xx answer marks it delivered, anything else schedules
/// the next attempt after <c>CallbackRetryDelay × 2^(attempts-1)</c> (at most an hour) until <c>CallbackAttempts</c>
/// are used up. A crash after a POST and before its row is updated repeats that POST once: delivery is at least once,
/// as with BBB itself. Analytics rows (queued by the API's relay, with the server's JSON body) are POSTed as JSON
/// the way Scalelite forwards them: <c>Authorization: Bearer</c> an HS512 token whose only claim is an <c>exp</c>
/// 24 hours ahead. They are sent even with recordings disabled: analytics do not depend on them.
/// </remarks>
public sealed partial class CallbackSender(
    IDbContextFactory<ScaleliteDbContext> databases,
    IHttpClientFactory http,
    ICallbackSecrets secrets,
    IOptions<RecordingOptions> options,
    DatabaseMigrator migrator,
    RecordingSyncMetrics metrics,
    TimeProvider time,
    ILogger<CallbackSender> logger) : BackgroundService
{
    public const string HttpClientName = "callbacks";

    /// <summary>The User-Agent Scalelite forwards analytics with; some receivers log or match it.</summary>
    private const string AnalyticsUserAgent = "BigBlueButton Analytics Callback";
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    // Twice the callback client's timeout (15 s): a row taken by an instance that died comes due again after it.
    private static readonly TimeSpan SendLease = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrator.Migrated.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeliverDueAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.PassFailed(logger, e.Message);
            }

            try
            {
                await Task.Delay(Tick, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>One pass: every callback that is due is attempted once.</summary>
    public async Task DeliverDueAsync(CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        var due = await db.Set<Callback>()
            .Where(c => c.Status == CallbackStatus.Pending && (c.RecordId != null || c.Payload != null) && c.NextAttemptAt <= now)
            .OrderBy(c => c.NextAttemptAt)
            .Take(50)
            .ToListAsync(ct);
        foreach (var callback in due)
        {
            if (!await TakeAsync(db, callback, now, ct))
            {
                continue;
            }

            var error = await SendAsync(callback, ct);
            callback.Attempts++;
            if (error is null)
            {
                callback.Status = CallbackStatus.Delivered;
                callback.DeliveredAt = time.GetUtcNow();
                callback.LastError = null;
                metrics.Callback("delivered");
                Log.Delivered(logger, callback.Kind, callback.RecordId ?? callback.MeetingId, callback.Url, callback.MeetingId, callback.InternalMeetingId ?? callback.RecordId ?? string.Empty, callback.TenantId);
            }
            else
            {
                callback.LastError = error.Length > 1000 ? error[..1000] : error;
                if (callback.Attempts >= options.Value.CallbackAttempts)
                {
                    callback.Status = CallbackStatus.Failed;
                    metrics.Callback("failed");
                    Log.GaveUp(logger, callback.Kind, callback.RecordId ?? callback.MeetingId, callback.Url, callback.Attempts, error, callback.MeetingId, callback.InternalMeetingId ?? callback.RecordId ?? string.Empty, callback.TenantId);
                }
                else
                {
                    callback.NextAttemptAt = time.GetUtcNow() + Backoff(callback.Attempts);
                    metrics.Callback("retry");
                }
            }

            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>
    /// Takes a due delivery for this instance: its next attempt is moved past the send's lease by a conditional update,
    /// which only one of several RecordingSync instances reading the same row can win.
    /// </summary>
    /// <remarks>An instance that dies after taking a row leaves it due again once the lease has passed: still at least once.</remarks>
    private static async Task<bool> TakeAsync(ScaleliteDbContext db, Callback callback, DateTimeOffset now, CancellationToken ct)
    {
        var due = callback.NextAttemptAt;
        var lease = now + SendLease;
        var taken = await db.Set<Callback>()
            .Where(c => c.Id == callback.Id && c.Status == CallbackStatus.Pending && c.NextAttemptAt == due)
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.NextAttemptAt, lease), ct);
        return taken == 1;
    }

    internal TimeSpan Backoff(int attempts)
    {
        var seconds = options.Value.CallbackRetryDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        return TimeSpan.FromSeconds(Math.Min(seconds, 3600));
    }

    private async Task<string?> SendAsync(Callback callback, CancellationToken ct)
    {
        if (await secrets.SecretForAsync(callback.TenantId, ct) is not { Length: > 0 } secret)
        {
            return "no secret to sign with";
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(callback.Url));
            if (callback.Kind == CallbackStatus.Analytics)
            {
                request.Content = new StringContent(callback.Payload ?? "{}", System.Text.Encoding.UTF8, "application/json");
                request.Headers.Authorization = new("Bearer", CallbackSigner.SignAnalytics(secret, time.GetUtcNow()));
                request.Headers.TryAddWithoutValidation("User-Agent", AnalyticsUserAgent);
            }
            else
            {
                request.Content = new FormUrlEncodedContent([new("signed_parameters", CallbackSigner.Sign(secret, callback.MeetingId, callback.RecordId!))]);
            }

            using var response = await http.CreateClient(HttpClientName).SendAsync(request, ct);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    private static partial class Log
    {
        // Named as the meeting events name a meeting (MeetingEvents), so a search for either ID finds the callback too.
        // BBB's record ID is the meeting's internalMeetingID: it stands in when the create's answer was not kept.
        private const string Fields = "; meetingID={meetingID} internalMeetingID={internalMeetingID} tenant={tenant}";

        [LoggerMessage(1, LogLevel.Information, "The {Kind} callback for {Id} was delivered to {Url}" + Fields)]
        public static partial void Delivered(ILogger logger, string kind, string id, string url, string meetingId, string internalMeetingId, string tenant);

        [LoggerMessage(2, LogLevel.Warning, "The {Kind} callback for {Id} to {Url} failed after {Attempts} attempts: {Error}" + Fields)]
        public static partial void GaveUp(ILogger logger, string kind, string id, string url, int attempts, string error, string meetingId, string internalMeetingId, string tenant);

        [LoggerMessage(3, LogLevel.Warning, "A callback delivery pass failed: {Error}")]
        public static partial void PassFailed(ILogger logger, string error);
    }
}
