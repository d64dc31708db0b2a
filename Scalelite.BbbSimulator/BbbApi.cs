using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Scalelite.BbbSimulator;

/// <summary>The BBB API of one simulated server, on <c>/bigbluebutton/api/{call}</c>.</summary>
internal static class BbbApi
{
    public const string PathPrefix = "/bigbluebutton/api";

    private const string DefaultDialNumber = "613-555-1234";
    private const string NotFoundMessage = "We could not find a meeting with that meeting ID - perhaps the meeting is not yet running?";
    private const string TokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string PasswordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    // The route table: call name, whether POST is accepted, whether GET is accepted, handler.
    private static readonly Dictionary<string, Route> Routes = new(StringComparer.Ordinal)
    {
        ["create"] = new(Get: true, Post: true, Create),
        ["join"] = new(Get: true, Post: false, Join),
        ["end"] = new(Get: true, Post: true, End),
        ["isMeetingRunning"] = new(Get: true, Post: true, IsMeetingRunning),
        ["getMeetingInfo"] = new(Get: true, Post: true, GetMeetingInfo),
        ["getMeetings"] = new(Get: true, Post: true, GetMeetings),
        ["insertDocument"] = new(Get: false, Post: true, InsertDocument),
        ["sendChatMessage"] = new(Get: true, Post: false, SendChatMessage),
    };

    private static readonly string ChecksumError = BbbXml.Failed("checksumError", "You did not pass the checksum security check");
    private static readonly string Unsupported = BbbXml.Failed("unsupportedRequest", "This request is not supported.");
    private static readonly string MissingMeetingId = BbbXml.Failed("missingParamMeetingID", "You must specify a meeting ID for the meeting.");
    private static readonly string NotFound = BbbXml.Failed("notFound", NotFoundMessage);

    private delegate ApiResult Handler(ApiRequest request);

    /// <summary>Answers a request whose path is under <see cref="PathPrefix"/>; <paramref name="call"/> is the rest of the path.</summary>
    public static async Task HandleAsync(HttpContext context, SimulatedServer server, string call, SimulatorRuntime runtime)
    {
        if (call.Length == 0)
        {
            server.CountCall("index");
            if (await Faults.ApplyAsync(context, server, "index", runtime.Stopping))
            {
                await WriteXmlAsync(context, Index(context, runtime.BbbVersion));
            }

            return;
        }

        var method = context.Request.Method;
        var isPost = HttpMethods.IsPost(method);
        if (!Routes.TryGetValue(call, out var route) || !(isPost ? route.Post : (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) && route.Get))
        {
            server.CountCall(call);
            if (await Faults.ApplyAsync(context, server, call, runtime.Stopping))
            {
                await WriteXmlAsync(context, Unsupported);
            }

            return;
        }

        IFormCollection? form = null;
        if (isPost && context.Request.HasFormContentType)
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }

        var request = new ApiRequest(context, server, form);
        var valid = ChecksumValid(call, context.Request.QueryString.Value, form, server.Secret);
        if (valid)
        {
            server.CountCall(call);
            if (call != "getMeetings")
            {
                // What tests check parameter rules against (getMeetings, polled all the time, carries none).
                server.Receive(call, Received(context.Request.Query, form));
            }
        }
        else
        {
            server.CountChecksumFailure(call);
        }

        if (!await Faults.ApplyAsync(context, server, call, runtime.Stopping))
        {
            return;
        }

        if (!valid)
        {
            await WriteXmlAsync(context, ChecksumError);
            return;
        }

        var result = route.Handler(request);
        if (result.RedirectTo is not null)
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = result.RedirectTo;
            return;
        }

        await WriteXmlAsync(context, result.Xml!);
    }

    internal static bool ChecksumValid(string call, string? queryString, IFormCollection? form, string secret)
    {
        var rawQuery = string.IsNullOrEmpty(queryString) ? string.Empty : queryString[1..];
        var checksum = Checksum.FindRawChecksum(rawQuery);
        string query;
        if (checksum is not null)
        {
            query = Checksum.StripChecksum(rawQuery, checksum);
        }
        else if (form is not null && form.TryGetValue("checksum", out var formChecksum) && formChecksum.Count == 1)
        {
            // All parameters in a form body: the checksum is over the (empty) query string, as BBB documents.
            checksum = formChecksum[0];
            query = rawQuery;
        }
        else
        {
            return false;
        }

        return checksum is not null && Checksum.Verify(call, query, secret, checksum);
    }

    private static string Index(HttpContext context, string bbbVersion)
    {
        var host = context.Request.Host.Value;
        return BbbXml.Response(success: true)
            .Element("version", "2.0")
            .Element("apiVersion", "2.0")
            .Element("bbbVersion", bbbVersion)
            .Element("graphqlWebsocketUrl", $"ws://{host}/graphql")
            .Element("graphqlApiUrl", $"http://{host}/api/rest")
            .End();
    }

    private static ApiResult Create(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        var server = r.Server;
        if (server.Meetings.TryGetValue(meetingId, out var existing))
        {
            return Duplicate(r, existing);
        }

        var now = server.TimeProvider.GetUtcNow();
        var createTime = now.ToUnixTimeMilliseconds();
        var isBreakout = IsTrue(r.Param("isBreakout"));
        var meeting = new Meeting
        {
            MeetingId = meetingId,
            InternalMeetingId = InternalId(meetingId, createTime),
            Name = r.Param("name") ?? meetingId,
            AttendeePassword = NonEmpty(r.Param("attendeePW")) ?? RandomNumberGenerator.GetString(PasswordAlphabet, 12),
            ModeratorPassword = NonEmpty(r.Param("moderatorPW")) ?? RandomNumberGenerator.GetString(PasswordAlphabet, 12),
            CreateTime = createTime,
            CreateDate = now.UtcDateTime.ToString("ddd MMM dd HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture),
            VoiceBridge = NonEmpty(r.Param("voiceBridge")) ?? Random.Shared.Next(10000, 100000).ToString(CultureInfo.InvariantCulture),
            DialNumber = NonEmpty(r.Param("dialNumber")) ?? DefaultDialNumber,
            Duration = IntParam(r.Param("duration")),
            Recording = IsTrue(r.Param("record")),
            MaxUsers = IntParam(r.Param("maxParticipants")),
            IsBreakout = isBreakout,
            ParentMeetingId = isBreakout ? NonEmpty(r.Param("parentMeetingID")) : null,
            Sequence = isBreakout ? IntParam(r.Param("sequence")) : 0,
            FreeJoin = isBreakout && IsTrue(r.Param("freeJoin")),
            Metadata = r.Metadata(),
        };

        // A concurrent create of the same meetingID may win the race: then this one is a repeat.
        if (!server.Meetings.TryAdd(meetingId, meeting))
        {
            return server.Meetings.TryGetValue(meetingId, out existing) ? Duplicate(r, existing) : Create(r);
        }

        if (meeting.ParentMeetingId is { } parentId)
        {
            foreach (var (_, candidate) in server.Meetings)
            {
                if (candidate.InternalMeetingId == parentId || candidate.MeetingId == parentId)
                {
                    lock (candidate.Sync)
                    {
                        candidate.BreakoutRooms.Add(meeting.InternalMeetingId);
                    }

                    break;
                }
            }
        }

        return CreateAnswer(meeting, duplicate: false);
    }

    /// <remarks>
    /// A repeat create is harmless unless it names passwords other than the meeting's: only then does
    /// BBB refuse it, since a caller without the passwords could otherwise not tell the meetings apart.
    /// </remarks>
    private static ApiResult Duplicate(ApiRequest r, Meeting existing)
    {
        var attendeePw = NonEmpty(r.Param("attendeePW"));
        var moderatorPw = NonEmpty(r.Param("moderatorPW"));
        if ((attendeePw is not null && attendeePw != existing.AttendeePassword)
            || (moderatorPw is not null && moderatorPw != existing.ModeratorPassword))
        {
            return BbbXml.Failed("idNotUnique", "A meeting already exists with that meeting ID. Please use a different meeting ID.");
        }

        return CreateAnswer(existing, duplicate: true);
    }

    private static string CreateAnswer(Meeting m, bool duplicate)
    {
        bool hasUserJoined;
        lock (m.Sync)
        {
            hasUserJoined = m.HasUserJoined;
        }

        return BbbXml.Response(success: true)
            .Element("meetingID", m.MeetingId)
            .Element("internalMeetingID", m.InternalMeetingId)
            .Element("parentMeetingID", m.ParentMeetingId ?? "bbb-none")
            .Element("attendeePW", m.AttendeePassword)
            .Element("moderatorPW", m.ModeratorPassword)
            .Element("createTime", m.CreateTime)
            .Element("voiceBridge", m.VoiceBridge)
            .Element("dialNumber", m.DialNumber)
            .Element("createDate", m.CreateDate)
            .Element("hasUserJoined", hasUserJoined)
            .Element("duration", m.Duration)
            .Element("hasBeenForciblyEnded", false)
            .Element("messageKey", duplicate ? "duplicateWarning" : string.Empty)
            .Element("message", duplicate ? "This conference was already in existence and may currently be in progress." : string.Empty)
            .End();
    }

    private static ApiResult Join(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        var fullName = r.Param("fullName");
        if (string.IsNullOrEmpty(fullName))
        {
            return BbbXml.Failed("missingParamFullName", "You must specify a name for the attendee who will be joining the meeting.");
        }

        if (!r.Server.Meetings.TryGetValue(meetingId, out var meeting))
        {
            return NotFound;
        }

        var createTime = r.Param("createTime");
        if (!string.IsNullOrEmpty(createTime) && createTime != meeting.CreateTime.ToString(CultureInfo.InvariantCulture))
        {
            return BbbXml.Failed("mismatchCreateTimeParam", "The createTime parameter submitted mismatches with the current meeting.");
        }

        bool moderator;
        var role = r.Param("role");
        if (string.Equals(role, "MODERATOR", StringComparison.OrdinalIgnoreCase))
        {
            moderator = true;
        }
        else if (string.Equals(role, "VIEWER", StringComparison.OrdinalIgnoreCase))
        {
            moderator = false;
        }
        else
        {
            var password = r.Param("password");
            if (password is not null && password == meeting.ModeratorPassword)
            {
                moderator = true;
            }
            else if (password is not null && password == meeting.AttendeePassword)
            {
                moderator = false;
            }
            else
            {
                return BbbXml.Failed("invalidPassword", "You either did not supply a password or the password supplied is neither the attendee or moderator password for this conference.");
            }
        }

        var userId = NonEmpty(r.Param("userID")) ?? "w_" + RandomNumberGenerator.GetString(TokenAlphabet, 12);
        var attendee = new Attendee(userId, fullName, moderator, r.Server.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds(), "HTML5");
        lock (meeting.Sync)
        {
            meeting.Attendees.Add(attendee);
            meeting.Running = true;
            meeting.HasUserJoined = true;
        }

        var sessionToken = RandomNumberGenerator.GetString(TokenAlphabet, 16);
        var request = r.Context.Request;
        var url = $"{request.Scheme}://{request.Host.Value}{BbbSimulatorHost.ClientPath}?sessionToken={sessionToken}";
        if (string.Equals(r.Param("redirect"), "false", StringComparison.OrdinalIgnoreCase))
        {
            return BbbXml.Response(success: true)
                .Element("messageKey", "successfullyJoined")
                .Element("message", "You have joined successfully.")
                .Element("meeting_id", meeting.InternalMeetingId)
                .Element("user_id", userId)
                .Element("auth_token", RandomNumberGenerator.GetString(TokenAlphabet, 12))
                .Element("session_token", sessionToken)
                .Element("guestStatus", "ALLOW")
                .Element("url", url)
                .End();
        }

        return new ApiResult(null, url);
    }

    private static ApiResult End(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        if (!r.Server.EndMeeting(meetingId))
        {
            return NotFound;
        }

        return BbbXml.Response(success: true)
            .Element("messageKey", "sentEndMeetingRequest")
            .Element("message", "A request to end the meeting was sent. Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API calls to verify that it was ended.")
            .End();
    }

    private static ApiResult IsMeetingRunning(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        var running = false;
        if (r.Server.Meetings.TryGetValue(meetingId, out var meeting))
        {
            lock (meeting.Sync)
            {
                running = meeting.Running;
            }
        }

        return BbbXml.Response(success: true).Element("running", running).End();
    }

    private static ApiResult GetMeetingInfo(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        if (!r.Server.Meetings.TryGetValue(meetingId, out var meeting))
        {
            return NotFound;
        }

        var xml = BbbXml.Response(success: true);
        lock (meeting.Sync)
        {
            xml.Meeting(meeting, forMeetingInfo: true);
        }

        return xml.End();
    }

    private static ApiResult GetMeetings(ApiRequest r)
    {
        var xml = BbbXml.Response(success: true);
        var any = false;
        // Enumerating the dictionary itself is lock-free; .Values would take every bucket lock and copy.
        foreach (var (_, meeting) in r.Server.Meetings)
        {
            if (!any)
            {
                xml.Open("meetings");
                any = true;
            }

            xml.Open("meeting");
            lock (meeting.Sync)
            {
                xml.Meeting(meeting, forMeetingInfo: false);
            }

            xml.Close("meeting");
        }

        if (!any)
        {
            return xml.Element("messageKey", "noMeetings")
                .Element("message", "no meetings were found on this server")
                .Empty("meetings")
                .End();
        }

        return xml.Close("meetings").End();
    }

    private static ApiResult InsertDocument(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        if (!r.Server.Meetings.ContainsKey(meetingId))
        {
            return NotFound;
        }

        return BbbXml.Response(success: true).Element("message", "Presentation is being uploaded").End();
    }

    private static ApiResult SendChatMessage(ApiRequest r)
    {
        var meetingId = r.Param("meetingID");
        if (string.IsNullOrEmpty(meetingId))
        {
            return MissingMeetingId;
        }

        if (string.IsNullOrEmpty(r.Param("message")))
        {
            return BbbXml.Failed("missingParamMessage", "You must specify a message.");
        }

        if (!r.Server.Meetings.ContainsKey(meetingId))
        {
            return NotFound;
        }

        return BbbXml.Response(success: true).End();
    }

    /// <summary>BBB's internal id: sha1 hex of the external id, a dash and the create time in ms.</summary>
    internal static string InternalId(string meetingId, long createTime)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(Encoding.UTF8.GetBytes(meetingId), hash);
        return Convert.ToHexStringLower(hash) + "-" + createTime.ToString(CultureInfo.InvariantCulture);
    }

    private static async Task WriteXmlAsync(HttpContext context, string xml)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/xml; charset=utf-8";
        context.Response.ContentLength = Encoding.UTF8.GetByteCount(xml);
        await context.Response.WriteAsync(xml, context.RequestAborted);
    }

    private static bool IsTrue(string? value) => string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);

    private static int IntParam(string? value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed record Route(bool Get, bool Post, Handler Handler);

    /// <summary>Either an XML answer or a redirect target.</summary>
    private readonly record struct ApiResult(string? Xml, string? RedirectTo)
    {
        public static implicit operator ApiResult(string xml) => new(xml, null);
    }

    /// <summary>Parameters of one call: the query string, then the form body of a form POST.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Received(IQueryCollection query, IFormCollection? form) =>
        query.Concat(form ?? Enumerable.Empty<KeyValuePair<string, StringValues>>())
            .Where(p => p.Key != "checksum")
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? string.Empty)));

    private sealed class ApiRequest(HttpContext context, SimulatedServer server, IFormCollection? form)
    {
        public HttpContext Context { get; } = context;

        public SimulatedServer Server { get; } = server;

        public string? Param(string name)
        {
            if (Context.Request.Query.TryGetValue(name, out var value) && value.Count > 0)
            {
                return value[0];
            }

            return form is not null && form.TryGetValue(name, out value) && value.Count > 0 ? value[0] : null;
        }

        /// <remarks>BBB strips the <c>meta_</c> prefix and lower-cases the rest.</remarks>
        public List<KeyValuePair<string, string>> Metadata()
        {
            List<KeyValuePair<string, string>>? result = null;
            Collect(Context.Request.Query, ref result);
            if (form is not null)
            {
                Collect(form, ref result);
            }

            return result is null ? [] : result;
        }

        private static void Collect(IEnumerable<KeyValuePair<string, StringValues>> source, ref List<KeyValuePair<string, string>>? result)
        {
            foreach (var (key, value) in source)
            {
                if (key.Length > 5 && key.StartsWith("meta_", StringComparison.OrdinalIgnoreCase))
                {
                    result ??= [];
                    var name = key[5..].ToLowerInvariant();
                    if (!result.Exists(kv => kv.Key == name))
                    {
                        result.Add(new(name, value.Count > 0 ? value[0] ?? string.Empty : string.Empty));
                    }
                }
            }
        }
    }
}
