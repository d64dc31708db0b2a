using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Meetings.History;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Placement;

namespace Scalelite.Core.Meetings;

/// <summary>Who or what ended a meeting, as the history keeps it.</summary>
public enum MeetingEndCause
{
    /// <summary>An <c>end</c> call through the API (an LMS, or <c>scalelite meetings end</c>).</summary>
    Api,

    /// <summary>Its server went offline, and the pool forgot its meetings.</summary>
    ServerOffline,

    /// <summary>Its server stopped listing it: everyone left, or the node ended it.</summary>
    DisappearedFromPoll,

    /// <summary>A stale copy on a server that came back, ended by the poller (the meeting runs on its owner).</summary>
    StaleCopy,

    /// <summary>An operator's panic or forced removal of its server.</summary>
    Operator,

    /// <summary>Its create was undone at once because its callbacks could not be kept.</summary>
    CreateUndone,
}

/// <summary>
/// The one place a meeting's life is told: each event is logged with the meeting's identity as structured fields,
/// put on the trace, and kept in the meeting history.
/// </summary>
/// <remarks>
/// <para>Every entry carries <c>meetingID</c>, <c>internalMeetingID</c>, <c>serverId</c>, <c>serverHost</c> and
/// <c>tenant</c> as <see cref="LoggerMessageAttribute"/> parameters, so they are fields of the JSON log and of OTLP log
/// records, and also part of the console line (<c>meetingID=... internalMeetingID=...</c>): a <c>grep</c> of either ID
/// finds the meeting's create, end and recording import here, and the internalMeetingID finds it in the BBB node's logs.
/// The category (<c>Scalelite.Core.Meetings.MeetingEvents</c>) switches them all at once: joins and forwarded calls are
/// logged at Debug, the rest at Information or Warning.</para>
/// <para>The join path pays for none of it unless someone listens: the log call returns after one level check, the
/// trace tags need a recorded request span, and the history only adds one to an in-memory counter
/// (<see cref="IMeetingHistory.CountJoin"/>). History writes never wait or fail the caller (<see cref="MeetingHistoryWriter"/>).</para>
/// </remarks>
public sealed partial class MeetingEvents(IMeetingHistory history, TimeProvider time, ILogger<MeetingEvents> logger)
{
    /// <summary>Joins and forwarded calls are logged (Debug is on): worth a lookup of the internalMeetingID for them.</summary>
    public bool LogsCalls => logger.IsEnabled(LogLevel.Debug);

    /// <summary>A create placed the meeting on <paramref name="server"/>, chosen among <paramref name="candidates"/>.</summary>
    public void Placed(string meetingKey, ServerSnapshot server, string? internalMeetingId, IReadOnlyList<PlacementCandidate> candidates, IReadOnlyCollection<string> unanswered)
    {
        var meeting = MeetingIdentity.FromKey(meetingKey, server, internalMeetingId);
        using var span = MeetingTelemetry.Mark("meeting created", meeting);
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.Placed(logger, Describe(candidates, server.Id, unanswered), meeting.MeetingId, meeting.InternalMeetingId ?? string.Empty, server.Id, meeting.ServerHost!, meeting.Tenant);
        }

        if (internalMeetingId is { Length: > 0 })
        {
            history.Add(new MeetingCreatedChange(meeting, time.GetUtcNow(),
                [.. candidates.Select(c => new HistoryCandidate(c.ServerId, c.Load, c.ServerId == server.Id, !unanswered.Contains(c.ServerId)))]));
        }
    }

    /// <summary>A create sent to <paramref name="server"/> got no answer; the placement goes on without it.</summary>
    public void CreateUnanswered(string meetingKey, ServerSnapshot server, string? error)
    {
        var meeting = MeetingIdentity.FromKey(meetingKey, server);
        Log.CreateUnanswered(logger, error ?? "no answer", meeting.MeetingId, string.Empty, server.Id, meeting.ServerHost!, meeting.Tenant);
    }

    /// <summary>A join was routed to <paramref name="server"/>: counted for the history, logged at Debug.</summary>
    public void Joined(string tenant, string meetingId, ServerSnapshot server, string? internalMeetingId = null)
    {
        history.CountJoin(tenant, meetingId, server.Id);
        if (Activity.Current is { IsAllDataRequested: true } request)
        {
            MeetingTelemetry.Tag(request, MeetingIdentity.On(server, tenant, meetingId, internalMeetingId));
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Joined(logger, meetingId, internalMeetingId ?? string.Empty, server.Id, MeetingIdentity.HostOf(server.Url), tenant);
        }
    }

    /// <summary>A call was forwarded to the meeting's server (getMeetingInfo, isMeetingRunning, ...): logged at Debug.</summary>
    public void Forwarded(string call, string tenant, string meetingId, ServerSnapshot server, string? internalMeetingId = null)
    {
        if (Activity.Current is { IsAllDataRequested: true } request)
        {
            MeetingTelemetry.Tag(request, MeetingIdentity.On(server, tenant, meetingId, internalMeetingId));
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Forwarded(logger, call, meetingId, internalMeetingId ?? string.Empty, server.Id, MeetingIdentity.HostOf(server.Url), tenant);
        }
    }

    /// <summary>The pool is done with the meeting: ended, or forgotten with its server.</summary>
    public void Ended(in MeetingIdentity meeting, MeetingEndCause cause, string? detail = null)
    {
        using var span = MeetingTelemetry.Mark("meeting ended", meeting);
        span?.SetTag("scalelite.meeting.ended_by", EndedBy(cause));
        var text = detail is { Length: > 0 } ? $"{Describe(cause)}: {detail}" : Describe(cause);
        if (cause == MeetingEndCause.CreateUndone)
        {
            Log.Undone(logger, text, meeting.MeetingId, meeting.InternalMeetingId ?? string.Empty, meeting.ServerId ?? string.Empty, meeting.ServerHost ?? string.Empty, meeting.Tenant);
        }
        else
        {
            Log.Ended(logger, text, meeting.MeetingId, meeting.InternalMeetingId ?? string.Empty, meeting.ServerId ?? string.Empty, meeting.ServerHost ?? string.Empty, meeting.Tenant);
        }

        history.Add(new MeetingEndedChange(meeting, time.GetUtcNow(), EndedBy(cause), detail));
    }

    /// <summary>A meeting found running on a server that the registry did not know was taken over as its owner's.</summary>
    public void Adopted(in MeetingIdentity meeting, DateTimeOffset createdAt, string how)
    {
        using var span = MeetingTelemetry.Mark("meeting adopted", meeting);
        Log.Adopted(logger, how, meeting.MeetingId, meeting.InternalMeetingId ?? string.Empty, meeting.ServerId ?? string.Empty, meeting.ServerHost ?? string.Empty, meeting.Tenant);
        if (meeting.InternalMeetingId is { Length: > 0 })
        {
            history.Add(new MeetingAdoptedChange(meeting, createdAt, time.GetUtcNow()));
        }
    }

    /// <summary>A recording of the meeting was imported from <paramref name="archive"/> and is listed from now on.</summary>
    /// <param name="recordingEnd">The recording's own end time, the import delay's start when the history has no end.</param>
    public void RecordingImported(in MeetingIdentity meeting, string recordId, IReadOnlyList<string> formats, string archive, TimeSpan sinceArrival, DateTimeOffset recordingEnd)
    {
        using var span = MeetingTelemetry.Mark("recording imported", meeting);
        span?.SetTag("scalelite.recording.id", recordId);
        Log.RecordingImported(logger, recordId, archive, string.Join(", ", formats), sinceArrival.TotalSeconds,
            meeting.MeetingId, meeting.InternalMeetingId ?? string.Empty, meeting.ServerId ?? string.Empty, meeting.ServerHost ?? string.Empty, meeting.Tenant);
        if (meeting.InternalMeetingId is { Length: > 0 })
        {
            history.Add(new RecordingImportedChange(meeting, recordId, [.. formats], time.GetUtcNow(), recordingEnd));
        }
    }

    /// <summary>How the history names a cause.</summary>
    public static string EndedBy(MeetingEndCause cause) => cause switch
    {
        MeetingEndCause.Api => "api",
        MeetingEndCause.ServerOffline => "server-offline",
        MeetingEndCause.DisappearedFromPoll => "poll",
        MeetingEndCause.StaleCopy => "stale-copy",
        MeetingEndCause.Operator => "operator",
        MeetingEndCause.CreateUndone => "create-undone",
        _ => cause.ToString().ToLowerInvariant(),
    };

    private static string Describe(MeetingEndCause cause) => cause switch
    {
        MeetingEndCause.Api => "by an end call",
        MeetingEndCause.ServerOffline => "its server went offline",
        MeetingEndCause.DisappearedFromPoll => "its server no longer lists it",
        MeetingEndCause.StaleCopy => "a stale copy, ended",
        MeetingEndCause.Operator => "by an operator",
        MeetingEndCause.CreateUndone => "its create was undone",
        _ => EndedBy(cause),
    };

    /// <summary>The candidates as one short text: <c>sim-1=0* sim-2=15 sim-3=15 (no answer)</c>, the chosen one starred.</summary>
    private static string Describe(IReadOnlyList<PlacementCandidate> candidates, string chosen, IReadOnlyCollection<string> unanswered)
    {
        var text = new StringBuilder();
        foreach (var c in candidates)
        {
            text.Append(text.Length == 0 ? string.Empty : " ").Append(c.ServerId).Append('=').Append(c.Load.ToString("0.##", CultureInfo.InvariantCulture));
            text.Append(c.ServerId == chosen ? "*" : string.Empty).Append(unanswered.Contains(c.ServerId) ? " (no answer)" : string.Empty);
        }

        return text.Length == 0 ? "none" : text.ToString();
    }

    private const string Fields = " meetingID={meetingID} internalMeetingID={internalMeetingID} serverId={serverId} serverHost={serverHost} tenant={tenant}";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Meeting created; candidates (load, * chosen): {candidates};" + Fields)]
        public static partial void Placed(ILogger logger, string candidates, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(2, LogLevel.Warning, "Create got no answer ({error}); the server is skipped;" + Fields)]
        public static partial void CreateUnanswered(ILogger logger, string error, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(3, LogLevel.Debug, "Join routed;" + Fields)]
        public static partial void Joined(ILogger logger, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(4, LogLevel.Debug, "{call} forwarded;" + Fields)]
        public static partial void Forwarded(ILogger logger, string call, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(5, LogLevel.Information, "Meeting ended ({how});" + Fields)]
        public static partial void Ended(ILogger logger, string how, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(6, LogLevel.Warning, "Meeting ended at once ({how});" + Fields)]
        public static partial void Undone(ILogger logger, string how, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(7, LogLevel.Information, "Meeting adopted ({how});" + Fields)]
        public static partial void Adopted(ILogger logger, string how, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(8, LogLevel.Information, "Recording {recordId} imported from {archive} ({formats}), {arrivalSeconds:F1} s after the archive arrived;" + Fields)]
        public static partial void RecordingImported(ILogger logger, string recordId, string archive, string formats, double arrivalSeconds,
            string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);
    }
}
