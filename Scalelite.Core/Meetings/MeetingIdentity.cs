using Scalelite.Core.Pool;

namespace Scalelite.Core.Meetings;

/// <summary>
/// Who a meeting is, as every log entry, trace and history row about it names it: the LMS's meetingID, BBB's
/// internalMeetingID (what the BBB node's own logs and recordings carry), the server and its host, and the tenant.
/// </summary>
/// <remarks>
/// The internalMeetingID is what joins our side to the node's: a search for it finds the create, the end and the
/// import here, and the meeting's whole life in the node's logs. It is unknown (null) where the call that logs never
/// learnt it, such as a create that got no answer.
/// </remarks>
public readonly record struct MeetingIdentity(string Tenant, string MeetingId, string? InternalMeetingId, string? ServerId, string? ServerHost)
{
    /// <summary>A meeting on <paramref name="server"/>.</summary>
    public static MeetingIdentity On(ServerSnapshot server, string tenant, string meetingId, string? internalMeetingId = null) =>
        new(tenant, meetingId, internalMeetingId, server.Id, HostOf(server.Url));

    /// <summary>A meeting known by its registry key (<c>{tenant}:{meetingID}</c>) on <paramref name="server"/>.</summary>
    public static MeetingIdentity FromKey(string meetingKey, ServerSnapshot? server, string? internalMeetingId = null)
    {
        // The tenant never holds ':' (MeetingRegistry.MeetingKey): the meeting ID is everything after the first one.
        var separator = meetingKey.IndexOf(':', StringComparison.Ordinal);
        var (tenant, meetingId) = separator < 0 ? (string.Empty, meetingKey) : (meetingKey[..separator], meetingKey[(separator + 1)..]);
        return new MeetingIdentity(tenant, meetingId, internalMeetingId, server?.Id, server is null ? null : HostOf(server.Url));
    }

    /// <summary>The host (and port, unless the scheme's default) of a server's API URL, as the node knows itself.</summary>
    public static string HostOf(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : url;
}
