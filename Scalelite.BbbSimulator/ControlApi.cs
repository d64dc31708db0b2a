using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Scalelite.BbbSimulator;

/// <summary>
/// Control routes under <c>/sim</c> on each server's own port: fault injection, synthetic attendees,
/// stats, the calls received, and reset. They are loopback-only, and they keep answering in every fault mode.
/// </summary>
internal static class ControlApi
{
    public const string PathPrefix = "/sim";

    private const string MeetingsPrefix = "/sim/meetings/";

    public static Task HandleAsync(HttpContext context, SimulatedServer server)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is not null && !System.Net.IPAddress.IsLoopback(remote))
        {
            return ErrorAsync(context, StatusCodes.Status403Forbidden, "control routes are loopback-only");
        }

        var path = context.Request.Path.Value ?? string.Empty;
        var post = HttpMethods.IsPost(context.Request.Method);
        switch (path)
        {
            case "/sim/fault":
                return post ? SetFaultAsync(context, server) : IsGetOr405(context, () => FaultAsync(context, server));
            case "/sim/stats":
                return IsGetOr405(context, () => StatsAsync(context, server));
            case "/sim/requests":
                return IsGetOr405(context, () => RequestsAsync(context, server));
            case "/sim/reset":
                if (!post)
                {
                    return ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "use POST");
                }

                server.Reset();
                return FaultAsync(context, server);
        }

        if (path.StartsWith(Recordings.Prefix, StringComparison.Ordinal))
        {
            return Recordings.HandleAsync(context, server);
        }

        if (path.StartsWith(MeetingsPrefix, StringComparison.Ordinal))
        {
            if (!post)
            {
                return ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "use POST");
            }

            var (meetingId, action) = MeetingRoute(context);
            return action switch
            {
                "attendees" when meetingId.Length > 0 => AttendeesAsync(context, server, meetingId),
                "end" when meetingId.Length > 0 => EndAsync(context, server, meetingId),
                _ => ErrorAsync(context, StatusCodes.Status404NotFound, "no such route"),
            };
        }

        return ErrorAsync(context, StatusCodes.Status404NotFound, "no such route");
    }

    private static Task IsGetOr405(HttpContext context, Func<Task> get) =>
        HttpMethods.IsGet(context.Request.Method) ? get() : ErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "use GET");

    private static Task SetFaultAsync(HttpContext context, SimulatedServer server)
    {
        var query = context.Request.Query;
        if (!Faults.TryParse(query["mode"].ToString(), out var mode))
        {
            return ErrorAsync(context, StatusCodes.Status400BadRequest, "mode must be one of ok, down, hang, slow, error, garbage");
        }

        TimeSpan? delay = null;
        var delayText = query["delayMs"].ToString();
        if (delayText.Length > 0)
        {
            if (!int.TryParse(delayText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                return ErrorAsync(context, StatusCodes.Status400BadRequest, "delayMs must be a non-negative integer");
            }

            delay = TimeSpan.FromMilliseconds(ms);
        }

        // call=join (repeated, or comma-separated) limits the fault to those calls: a node whose API answers
        // getMeetings but fails joins, as a broken HTML5 client or a full disk makes it.
        var calls = query["call"].SelectMany(c => (c ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        server.SetFault(mode, delay, calls);
        return FaultAsync(context, server);
    }

    private static Task FaultAsync(HttpContext context, SimulatedServer server) => JsonAsync(context, StatusCodes.Status200OK, w =>
    {
        w.WriteString("mode", Faults.Name(server.FaultMode));
        w.WriteNumber("delayMs", (long)server.SlowDelay.TotalMilliseconds);
        if (server.FaultCalls is { } calls)
        {
            w.WriteStartArray("calls");
            foreach (var call in calls.Order(StringComparer.Ordinal))
            {
                w.WriteStringValue(call);
            }

            w.WriteEndArray();
        }
    });

    private static Task AttendeesAsync(HttpContext context, SimulatedServer server, string meetingId)
    {
        var query = context.Request.Query;
        if (!int.TryParse(query["count"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            return ErrorAsync(context, StatusCodes.Status400BadRequest, "count must be a non-negative integer");
        }

        var videoText = query["video"].ToString();
        var video = 0;
        if (videoText.Length > 0 && !int.TryParse(videoText, NumberStyles.None, CultureInfo.InvariantCulture, out video))
        {
            return ErrorAsync(context, StatusCodes.Status400BadRequest, "video must be a non-negative integer");
        }

        if (!server.SetAttendees(meetingId, count, video))
        {
            return ErrorAsync(context, StatusCodes.Status404NotFound, "notFound");
        }

        return JsonAsync(context, StatusCodes.Status200OK, w =>
        {
            w.WriteString("meetingID", meetingId);
            w.WriteNumber("attendees", count);
            w.WriteNumber("video", video);
        });
    }

    private static Task EndAsync(HttpContext context, SimulatedServer server, string meetingId) =>
        server.EndMeeting(meetingId)
            ? JsonAsync(context, StatusCodes.Status200OK, w =>
            {
                w.WriteString("meetingID", meetingId);
                w.WriteBoolean("ended", true);
            })
            : ErrorAsync(context, StatusCodes.Status404NotFound, "notFound");

    private static Task StatsAsync(HttpContext context, SimulatedServer server) => JsonAsync(context, StatusCodes.Status200OK, w =>
    {
        w.WriteString("id", server.Id);
        w.WriteNumber("port", server.Port);
        w.WriteString("mode", Faults.Name(server.FaultMode));
        WriteCounts(w, "calls", server.GetCallCounts());
        WriteCounts(w, "checksumFailures", server.GetChecksumFailures());
        w.WriteStartArray("meetings");
        foreach (var m in server.GetMeetings())
        {
            w.WriteStartObject();
            w.WriteString("meetingID", m.MeetingId);
            w.WriteString("internalMeetingID", m.InternalMeetingId);
            w.WriteString("name", m.Name);
            w.WriteBoolean("running", m.Running);
            w.WriteNumber("participantCount", m.ParticipantCount);
            w.WriteNumber("moderatorCount", m.ModeratorCount);
            w.WriteNumber("videoCount", m.VideoCount);
            w.WriteNumber("createTime", m.CreateTime);
            w.WriteBoolean("isBreakout", m.IsBreakout);
            w.WriteStartObject("metadata");
            foreach (var (key, value) in m.Metadata)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    /// <summary>The calls received lately (<c>?call=create</c> for one kind), oldest first, each with its parameters.</summary>
    private static Task RequestsAsync(HttpContext context, SimulatedServer server) => JsonAsync(context, StatusCodes.Status200OK, w =>
    {
        var call = context.Request.Query["call"].ToString();
        w.WriteStartArray("requests");
        foreach (var received in server.GetReceivedCalls(call.Length > 0 ? call : null))
        {
            w.WriteStartObject();
            w.WriteString("call", received.Call);
            w.WriteStartArray("parameters");
            foreach (var (key, value) in received.Parameters)
            {
                w.WriteStartArray();
                w.WriteStringValue(key);
                w.WriteStringValue(value);
                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private static void WriteCounts(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (call, n) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(call, n);
        }

        w.WriteEndObject();
    }

    /// <summary>
    /// Splits <c>/sim/meetings/{meetingID}/{action}</c> on the raw request target, so a meeting id holding
    /// an encoded slash (or any other escape) survives intact.
    /// </summary>
    private static (string MeetingId, string Action) MeetingRoute(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? string.Empty;
        var queryAt = raw.IndexOf('?', StringComparison.Ordinal);
        if (queryAt >= 0)
        {
            raw = raw[..queryAt];
        }

        if (!raw.StartsWith(MeetingsPrefix, StringComparison.Ordinal))
        {
            return (string.Empty, string.Empty);
        }

        var rest = raw[MeetingsPrefix.Length..];
        var slash = rest.LastIndexOf('/');
        if (slash <= 0)
        {
            return (string.Empty, string.Empty);
        }

        return (Uri.UnescapeDataString(rest[..slash]), rest[(slash + 1)..]);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, w => w.WriteString("error", message));

    private static async Task JsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
