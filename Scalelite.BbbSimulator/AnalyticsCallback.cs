using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Scalelite.BbbSimulator;

/// <summary>
/// Posts a meeting's analytics when it ends, as BBB's <c>post_events_analytics_callback</c> script does for a meeting
/// created with <c>meta_analytics-callback-url</c>.
/// </summary>
/// <remarks>
/// BBB sends JSON (<c>version</c>, <c>meeting_id</c> = the external ID, <c>internal_meeting_id</c>, <c>data</c>) with
/// <c>Authorization: Bearer</c> an HS512 JWT signed with the server's secret whose only claim is an <c>exp</c> 24 hours
/// ahead. BBB posts once, after the meeting's events are archived, and does not retry; so does this, in the background.
/// The JWT is written here rather than shared with the load balancer's code: the simulator stands for BBB and depends
/// on nothing of the system it tests.
/// </remarks>
internal static class AnalyticsCallback
{
    public const string MetaKey = "analytics-callback-url";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static void PostIfAsked(SimulatedServer server, Meeting meeting)
    {
        var url = meeting.Metadata.FirstOrDefault(m => m.Key == MetaKey).Value;
        if (string.IsNullOrEmpty(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return;
        }

        var now = server.TimeProvider.GetUtcNow();
        var body = Body(meeting, now);
        var token = Token(server.Secret, now);
        _ = Task.Run(async () =>
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Authorization = new("Bearer", token);
                using var response = await Http.SendAsync(request);
                server.CountCall("analytics-callback:" + (int)response.StatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                server.CountCall("analytics-callback:failed");
            }
        });
    }

    private static byte[] Body(Meeting meeting, DateTimeOffset now)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteString("meeting_id", meeting.MeetingId);
            w.WriteString("internal_meeting_id", meeting.InternalMeetingId);
            w.WriteStartObject("data");
            w.WriteStartObject("metadata");
            foreach (var (key, value) in meeting.Metadata)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
            w.WriteNumber("duration", Math.Max(0, (now.ToUnixTimeMilliseconds() - meeting.CreateTime) / 1000));
            w.WriteString("start", DateTimeOffset.FromUnixTimeMilliseconds(meeting.CreateTime).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture));
            w.WriteString("finish", now.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture));
            w.WriteStartArray("attendees");
            lock (meeting.Sync)
            {
                foreach (var a in meeting.Attendees)
                {
                    w.WriteStartObject();
                    w.WriteString("ext_user_id", a.UserId);
                    w.WriteString("name", a.FullName);
                    w.WriteBoolean("moderator", a.IsModerator);
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();
            w.WriteStartArray("files");
            w.WriteEndArray();
            w.WriteStartArray("polls");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static string Token(string secret, DateTimeOffset now)
    {
        var header = Base64Url.EncodeToString("""{"alg":"HS512","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"exp":{{now.AddHours(24).ToUnixTimeSeconds()}}}"""));
        var signature = HMACSHA512.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes($"{header}.{payload}"));
        return $"{header}.{payload}.{Base64Url.EncodeToString(signature)}";
    }
}
