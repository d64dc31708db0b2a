using System.Globalization;
using System.Security.Cryptography;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>The canary's test meetings: named under a reserved prefix, so every part of the pool can tell them apart.</summary>
/// <remarks>
/// A canary meeting is the pool's own, not an LMS's: it is never placed by load, counted in load, adopted, listed in
/// getMeetings or recorded. The prefix is how each of those places knows one (<c>ServerProbe</c> leaves them out of
/// what the poller observes, <c>MeetingList</c> out of getMeetings); an LMS may not use it (<c>BbbIdentifiers</c>).
/// </remarks>
public static class CanaryMeeting
{
    public const string Prefix = "scalelite-canary-";

    /// <summary>The <c>meta_</c> marker the canary's create also carries, for whoever reads the BBB node's own records.</summary>
    public const string Marker = "meta_scalelite-canary";

    public static bool IsCanary(string? meetingId) => meetingId is not null && meetingId.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>A new, unique canary meeting ID for <paramref name="serverId"/>.</summary>
    public static string NewId(string serverId, DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{serverId}-{at.ToUnixTimeMilliseconds()}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
}
