using System.Diagnostics;

namespace Scalelite.Core.Meetings;

/// <summary>The trace attributes that name a meeting, and the source of the short spans marking its events.</summary>
/// <remarks>
/// A span is tagged only when something records it (<see cref="Activity.IsAllDataRequested"/>); with no listener
/// (no OTLP endpoint) <see cref="Activity.Current"/> is null on the API's paths and no span is started elsewhere, so
/// a join pays nothing for this.
/// </remarks>
public static class MeetingTelemetry
{
    public static readonly ActivitySource Source = new("Scalelite.Meetings");

    public const string MeetingIdTag = "scalelite.meeting.id";
    public const string InternalMeetingIdTag = "scalelite.meeting.internal_id";
    public const string ServerIdTag = "scalelite.server.id";
    public const string ServerHostTag = "scalelite.server.host";
    public const string TenantTag = "scalelite.tenant";

    /// <summary>Puts the meeting's identity on <paramref name="activity"/>, if it is recorded.</summary>
    public static void Tag(Activity? activity, in MeetingIdentity meeting)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(MeetingIdTag, meeting.MeetingId);
        activity.SetTag(TenantTag, meeting.Tenant);
        if (meeting.InternalMeetingId is { Length: > 0 } internalId)
        {
            activity.SetTag(InternalMeetingIdTag, internalId);
        }

        if (meeting.ServerId is { } serverId)
        {
            activity.SetTag(ServerIdTag, serverId);
            activity.SetTag(ServerHostTag, meeting.ServerHost);
        }
    }

    /// <summary>
    /// Tags the span an event belongs to: the current one (the API request that caused it); or, in a background loop
    /// without one, a short span of its own named <paramref name="name"/>, which is returned for the caller to dispose.
    /// </summary>
    public static Activity? Mark(string name, in MeetingIdentity meeting)
    {
        if (Activity.Current is { } current)
        {
            Tag(current, meeting);
            return null;
        }

        var started = Source.StartActivity(name);
        Tag(started, meeting);
        return started;
    }
}
