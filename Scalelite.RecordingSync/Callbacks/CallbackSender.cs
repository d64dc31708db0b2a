using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Importing;

namespace Scalelite.RecordingSync.Callbacks;

/// <summary>Delivers pending recording-ready callbacks, retrying with exponential backoff, and records each outcome.</summary>
/// <remarks>
/// Deliveries are rows in <c>callbacks</c>, written in the import's transaction, so a callback is never lost to a
/// crash and never announced for a recording that was not committed. Each due row is POSTed as BBB posts it
/// (<c>signed_parameters=&lt;JWT&gt;</c>, form-encoded), signed with the secret of the recording's tenant
/// (<see cref="ICallbackSecrets"/>); a 2xx answer marks it delivered, anything else schedules
/// the next attempt after <c>CallbackRetryDelay × 2^(attempts-1)</c> (at most an hour) until <c>CallbackAttempts</c>
/// are used up. A crash after a POST and before its row is updated repeats that POST once: delivery is at least once,
/// as with BBB itself.
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
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Disabled)
        {
            return;
        }

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
            .Where(c => c.Status == CallbackStatus.Pending && c.RecordId != null && c.NextAttemptAt <= now)
            .OrderBy(c => c.NextAttemptAt)
            .Take(50)
            .ToListAsync(ct);
        foreach (var callback in due)
        {
            var error = await SendAsync(callback, ct);
            callback.Attempts++;
            if (error is null)
            {
                callback.Status = CallbackStatus.Delivered;
                callback.DeliveredAt = time.GetUtcNow();
                callback.LastError = null;
                metrics.Callback("delivered");
                Log.Delivered(logger, callback.RecordId!, callback.Url, callback.MeetingId, callback.InternalMeetingId ?? callback.RecordId!, callback.TenantId);
            }
            else
            {
                callback.LastError = error.Length > 1000 ? error[..1000] : error;
                if (callback.Attempts >= options.Value.CallbackAttempts)
                {
                    callback.Status = CallbackStatus.Failed;
                    metrics.Callback("failed");
                    Log.GaveUp(logger, callback.RecordId!, callback.Url, callback.Attempts, error, callback.MeetingId, callback.InternalMeetingId ?? callback.RecordId!, callback.TenantId);
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

        var jwt = CallbackSigner.Sign(secret, callback.MeetingId, callback.RecordId!);
        try
        {
            using var content = new FormUrlEncodedContent([new("signed_parameters", jwt)]);
            using var response = await http.CreateClient(HttpClientName).PostAsync(new Uri(callback.Url), content, ct);
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

        [LoggerMessage(1, LogLevel.Information, "Recording-ready callback for {RecordId} delivered to {Url}" + Fields)]
        public static partial void Delivered(ILogger logger, string recordId, string url, string meetingId, string internalMeetingId, string tenant);

        [LoggerMessage(2, LogLevel.Warning, "Recording-ready callback for {RecordId} to {Url} failed after {Attempts} attempts: {Error}" + Fields)]
        public static partial void GaveUp(ILogger logger, string recordId, string url, int attempts, string error, string meetingId, string internalMeetingId, string tenant);

        [LoggerMessage(3, LogLevel.Warning, "A callback delivery pass failed: {Error}")]
        public static partial void PassFailed(ILogger logger, string error);
    }
}
