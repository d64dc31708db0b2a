using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Bbb;
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
/// As Scalelite does, the recording-ready URL (<c>meta_bbb-recording-ready-url</c>, and the older
/// <c>meta_bn-recording-ready-url</c>) is removed from the create the BBB server sees: the server would sign its
/// notification with its own secret, which the LMS does not know, and would call before the recording reaches the
/// pool's index. RecordingSync calls instead, after the import, signed with the secret the LMS uses.
/// <c>meta_analytics-callback-url</c> is recorded but still passed through, because nothing relays analytics yet.
/// </remarks>
public sealed partial class CallbackCapture(IDbContextFactory<ScaleliteDbContext> databases, TimeProvider time, ILogger<CallbackCapture> logger)
{
    private static readonly string[] RecordingReadyKeys = ["meta_bbb-recording-ready-url", "meta_bn-recording-ready-url"];
    private const string AnalyticsKey = "meta_analytics-callback-url";

    /// <summary>Removes the recording-ready URLs from <paramref name="parameters"/> and returns every callback URL.</summary>
    public static CapturedCallbacks Take(BbbParameters parameters)
    {
        var ready = new List<string>();
        string? analytics = null;
        foreach (var (key, value) in parameters.ToList())
        {
            if (RecordingReadyKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    ready.Add(value);
                }

                parameters.Remove(key);
            }
            else if (string.Equals(key, AnalyticsKey, StringComparison.OrdinalIgnoreCase) && value.Length > 0)
            {
                analytics = value;
            }
        }

        return new CapturedCallbacks([.. ready.Distinct(StringComparer.Ordinal)], analytics);
    }

    /// <summary>Records the captured URLs for the meeting just created. A failure is logged, never fails the create.</summary>
    public async Task RecordAsync(string tenantId, string meetingId, string? internalMeetingId, CapturedCallbacks captured, CancellationToken ct)
    {
        if (captured.IsEmpty)
        {
            return;
        }

        try
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            var now = time.GetUtcNow();
            foreach (var (kind, url) in captured.RecordingReady.Select(u => (CallbackStatus.RecordingReady, u))
                .Concat(captured.Analytics is { } a ? [(CallbackStatus.Analytics, a)] : []))
            {
                db.Add(new Callback
                {
                    TenantId = tenantId,
                    MeetingId = meetingId,
                    InternalMeetingId = string.IsNullOrEmpty(internalMeetingId) ? null : internalMeetingId,
                    Kind = kind,
                    Url = url,
                    Status = CallbackStatus.Captured,
                    CreatedAt = now,
                });
            }

            await db.SaveChangesAsync(ct);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException or Npgsql.NpgsqlException or OperationCanceledException)
        {
            Log.CaptureFailed(logger, meetingId, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not record the callbacks of meeting {MeetingId}; its recording-ready notification will not be sent: {Error}")]
        public static partial void CaptureFailed(ILogger logger, string meetingId, string error);
    }
}
