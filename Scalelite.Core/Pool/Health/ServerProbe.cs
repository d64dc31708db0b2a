using System.Xml.Linq;
using Scalelite.Core.Bbb;
using Scalelite.Core.Monitoring.Canary;

namespace Scalelite.Core.Pool.Health;

/// <summary>What one getMeetings call on one server told: its meetings, or why it failed.</summary>
/// <param name="At">When the probe was sent: the server's <c>LastPolledAt</c>.</param>
public sealed record ProbeResult(bool Success, IReadOnlyList<ObservedMeeting> Meetings, string? Error, DateTimeOffset At, string? BbbVersion = null)
{
    public static ProbeResult Failure(string error, DateTimeOffset at) => new(false, [], error, at);
}

/// <summary>Asks one server for its meetings, as the poller does every cycle and an admission does at once.</summary>
/// <remarks>
/// A failed probe is a result, not an exception: no answer (refused, reset, timed out) and a FAILED answer both
/// come back as <see cref="ProbeResult.Failure"/> with the reason. A FAILED answer counts as a failure because it
/// means the server does not accept our secret (<c>checksumError</c>), so we cannot manage its meetings. The
/// client's plain timeout bounds each probe; callers probe many servers at once, each on its own.
/// </remarks>
public sealed class ServerProbe(BbbClient client, TimeProvider time, Microsoft.Extensions.Options.IOptions<Configuration.ScaleliteOptions>? options = null)
{
    // With multitenancy each meeting is filed under the tenant its create marked it with (meta_tenant-id).
    private readonly bool _tenants = options?.Value.MultitenancyEnabled ?? false;

    /// <param name="wantVersion">Also ask the server's index for its BBB version (a second call, only after a good answer).</param>
    public async Task<ProbeResult> ProbeAsync(ServerSnapshot server, bool wantVersion, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var response = await client.GetAsync(server, "getMeetings", new BbbParameters(), ct: ct);
        if (!response.Answered)
        {
            return ProbeResult.Failure(response.Error ?? "No answer.", at);
        }

        if (!response.IsSuccess)
        {
            return ProbeResult.Failure($"{response.MessageKey}: {response.Message}", at);
        }

        var meetings = Parse(response.Xml!, _tenants);
        string? version = null;
        if (wantVersion)
        {
            var index = await client.GetAsync(server, string.Empty, new BbbParameters(), ct: ct);
            version = index.IsSuccess ? index.Element("bbbVersion") is { Length: > 0 } v ? v : index.Element("version") : null;
        }

        return new ProbeResult(true, meetings, null, at, version);
    }

    internal static List<ObservedMeeting> Parse(XDocument xml, bool tenants = false)
    {
        var list = new List<ObservedMeeting>();
        var meetings = xml.Root?.Element("meetings");
        if (meetings is null)
        {
            return list;
        }

        foreach (var m in meetings.Elements("meeting"))
        {
            var id = m.Element("meetingID")?.Value;
            // The canary's own test meetings are not the pool's: never counted in load, adopted, drained or recorded.
            if (string.IsNullOrEmpty(id) || CanaryMeeting.IsCanary(id))
            {
                continue;
            }

            list.Add(new ObservedMeeting(
                id,
                m.Element("internalMeetingID")?.Value ?? string.Empty,
                Int(m, "participantCount"),
                Int(m, "moderatorCount"),
                Int(m, "videoCount"),
                string.Equals(m.Element("isBreakout")?.Value, "true", StringComparison.OrdinalIgnoreCase),
                long.TryParse(m.Element("createTime")?.Value, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch,
                // While multitenancy is off every meeting is the default tenant's: an LMS's own meta_tenant-id must not
                // file the meeting under another key than the API used. With it on, the API set it at create.
                tenants ? Tenancy.MeetingTenant.Of(m) : null,
                string.Equals(m.Element("recording")?.Value, "true", StringComparison.OrdinalIgnoreCase),
                m.Element("voiceBridge")?.Value));
        }

        return list;
    }

    private static int Int(XElement meeting, string name) => int.TryParse(meeting.Element(name)?.Value, out var n) ? n : 0;
}
