using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Bbb;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Meetings;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Meetings;

/// <summary>The callback URLs an LMS passed at create, taken out of the backend's view.</summary>
public sealed record CapturedCallbacks(IReadOnlyList<string> RecordingReady, string? Analytics)
{
    public bool IsEmpty => RecordingReady.Count == 0 && Analytics is null;
}

/// <summary>Captures the callback URLs of a create in the <c>callbacks</c> table, for RecordingSync to deliver.</summary>
/// <remarks>
/// <para>As Scalelite does, the recording-ready URL (<c>meta_bbb-recording-ready-url</c>, and the older
/// <c>meta_bn-recording-ready-url</c>) is removed from the create the BBB server sees: the server would sign its
/// notification with its own secret, which the LMS does not know, and would call before the recording reaches the
/// pool's index. RecordingSync calls instead, after the import, signed with the secret the LMS uses.
/// <c>meta_analytics-callback-url</c> is recorded and, for the same reason, replaced by <see cref="AnalyticsRelay"/>'s
/// URL on this host, which relays the server's post to the LMS signed with the LMS's secret.</para>
/// <para>A create must not succeed with its callbacks lost: the LMS's retry would be answered as a duplicate and the
/// callbacks never asked for again. So they are kept before the meeting's owner is recorded (the owner is what makes
/// a retry a duplicate): in PostgreSQL, or while it does not answer, in <see cref="CallbackOutbox"/>, which stores
/// them once it does. When neither takes them, <see cref="RecordAsync"/> says so and the create is undone. The
/// alternative, recording them before the backend's create, would refuse every create of an LMS that asks for
/// recording-ready callbacks (Moodle always does) for as long as PostgreSQL is down.</para>
/// <para>With both stores down, the outbox refuses at once (its Redis breaker is open), and the create is undone: the
/// meeting is ended on the server it was just created on, its seats and voice bridge are given back, and no owner is
/// kept, not even in the replica's memory. The create answers <c>internalError</c>; the LMS's retry is a fresh create,
/// which succeeds with its callbacks as soon as either store answers. A create without callbacks needs neither.</para>
/// <para>A crash between the backend's create and this step leaves no owner, so the LMS's retry is not a duplicate:
/// it creates again (the same server answers with the running meeting; another server's copy makes the first one a
/// stale copy, which the poller ends since nobody is in it) and keeps the callbacks then. One window stays open: if
/// a poll adopts the orphaned meeting before the retry arrives, the retry is a duplicate and its callbacks are not
/// kept. Closing it would cost a PostgreSQL read on every repeated create.</para>
/// </remarks>
public sealed partial class CallbackCapture(
    IDbContextFactory<ScaleliteDbContext> databases, CallbackOutbox outbox, MeetingEvents events, TimeProvider time, ILogger<CallbackCapture> logger)
{
    private static readonly string[] RecordingReadyKeys = ["meta_bbb-recording-ready-url", "meta_bn-recording-ready-url"];
    private const string AnalyticsKey = "meta_analytics-callback-url";

    /// <summary>The longest URL the <c>callbacks</c> table keeps; a longer one is not a URL an LMS sends, and is not captured.</summary>
    private const int MaxUrlLength = 2048;

    private readonly OutageLog _postgres = new(logger, "PostgreSQL", time);

    /// <summary>
    /// Removes the recording-ready URLs from <paramref name="parameters"/>, points the analytics callback at
    /// <paramref name="analyticsRelayUrl"/> (when given), and returns every callback URL the LMS asked for.
    /// </summary>
    public static CapturedCallbacks Take(BbbParameters parameters, string? analyticsRelayUrl = null)
    {
        var ready = new List<string>();
        string? analytics = null;
        foreach (var (key, value) in parameters.ToList())
        {
            if (RecordingReadyKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                if (value.Length <= MaxUrlLength && Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    ready.Add(value);
                }

                parameters.Remove(key);
            }
            else if (string.Equals(key, AnalyticsKey, StringComparison.OrdinalIgnoreCase) && value.Length is > 0 and <= MaxUrlLength)
            {
                analytics = value;
                if (analyticsRelayUrl is not null)
                {
                    parameters.Set(key, analyticsRelayUrl);
                }
            }
        }

        return new CapturedCallbacks([.. ready.Distinct(StringComparer.Ordinal)], analytics);
    }

    /// <summary>The rows a capture makes: one per recording-ready URL, and the analytics URL.</summary>
    public static IEnumerable<(string Kind, string Url)> Rows(CapturedCallbacks captured) =>
        captured.RecordingReady.Select(u => (CallbackStatus.RecordingReady, u))
            .Concat(captured.Analytics is { } a ? [(CallbackStatus.Analytics, a)] : []);

    /// <summary>A <c>captured</c> row, as RecordingSync looks for it when the meeting's recording is imported.</summary>
    public static Callback Captured(string tenantId, string meetingId, string? internalMeetingId, string kind, string url, DateTimeOffset at) => new()
    {
        TenantId = tenantId,
        MeetingId = meetingId,
        InternalMeetingId = string.IsNullOrEmpty(internalMeetingId) ? null : internalMeetingId,
        Kind = kind,
        Url = url,
        Status = CallbackStatus.Captured,
        CreatedAt = at,
    };

    /// <summary>
    /// Keeps the captured URLs of the meeting just created: in PostgreSQL, or in the outbox while PostgreSQL does not
    /// answer. False when neither took them: the caller must undo the create.
    /// </summary>
    public async Task<bool> RecordAsync(string tenantId, string meetingId, string? internalMeetingId, CapturedCallbacks captured, CancellationToken ct)
    {
        if (captured.IsEmpty)
        {
            return true;
        }

        try
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            var now = time.GetUtcNow();
            db.Callbacks.AddRange(Rows(captured).Select(row => Captured(tenantId, meetingId, internalMeetingId, row.Kind, row.Url, now)));
            await db.SaveChangesAsync(ct);
            _postgres.Succeeded();
            return true;
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e))
        {
            _postgres.Failed(e);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException)
        {
            // Not an outage, so waiting would not help: the create is undone rather than left without its callbacks.
            Log.CaptureFailed(logger, meetingId, internalMeetingId ?? string.Empty, tenantId, e);
            events.Ended(new MeetingIdentity(tenantId, meetingId, internalMeetingId, null, null), MeetingEndCause.CreateUndone, "its callbacks could not be stored");
            return false;
        }

        string reason;
        try
        {
            if (await outbox.TryAddAsync(tenantId, meetingId, internalMeetingId, captured))
            {
                Log.Kept(logger, meetingId, internalMeetingId ?? string.Empty, tenantId);
                return true;
            }

            reason = "Redis is unavailable";
        }
        catch (Exception e)
        {
            reason = OutageLog.Reason(e);
        }

        Log.OutboxFailed(logger, reason, meetingId, internalMeetingId ?? string.Empty, tenantId);
        events.Ended(new MeetingIdentity(tenantId, meetingId, internalMeetingId, null, null), MeetingEndCause.CreateUndone, "its callbacks could be kept neither in PostgreSQL nor in the outbox");
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Could not record the callbacks of a meeting; its create is undone; meetingID={meetingID} internalMeetingID={internalMeetingID} tenant={tenant}")]
        public static partial void CaptureFailed(ILogger logger, string meetingId, string internalMeetingId, string tenant, Exception ex);

        [LoggerMessage(2, LogLevel.Debug, "Kept the callbacks of a meeting in the outbox until PostgreSQL answers; meetingID={meetingID} internalMeetingID={internalMeetingID} tenant={tenant}")]
        public static partial void Kept(ILogger logger, string meetingId, string internalMeetingId, string tenant);

        [LoggerMessage(3, LogLevel.Warning, "Could not keep the callbacks of a meeting anywhere (PostgreSQL unavailable, outbox: {error}); its create is undone; meetingID={meetingID} internalMeetingID={internalMeetingID} tenant={tenant}")]
        public static partial void OutboxFailed(ILogger logger, string error, string meetingId, string internalMeetingId, string tenant);
    }
}
