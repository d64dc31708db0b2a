using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Bbb;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>What probing a server told.</summary>
public sealed record ProbeOutcome(bool Success, string? Error, string? BbbVersion, int? Meetings);

/// <summary>
/// Probes one server at once, as a poll would, so that a new node does not wait for the next poll cycle
/// to be judged; and optionally runs the admission test (create and end a test meeting on it).
/// </summary>
/// <remarks>
/// A probe counts like a poll: its result goes through <see cref="HealthPolicy"/>, so the healthy threshold
/// keeps its meaning (with a threshold of 3, three probes or polls in a row must succeed). Only the health
/// counters, the version and, for a server without meetings, a zero load are written; meetings, load and
/// ownership stay with the poller.
/// </remarks>
public sealed class AdmissionProbe(BbbClient client, HealthPolicy health, TimeProvider time)
{
    public async Task<ProbeOutcome> ProbeAsync(ServerSnapshot server, CancellationToken ct)
    {
        var meetings = await client.GetAsync(server, "getMeetings", new BbbParameters(), ct: ct);
        if (!meetings.Answered)
        {
            return new ProbeOutcome(false, meetings.Error ?? "No answer.", null, null);
        }

        if (!meetings.IsSuccess)
        {
            return new ProbeOutcome(false, $"{meetings.MessageKey}: {meetings.Message}", null, null);
        }

        var count = meetings.Xml!.Root?.Element("meetings")?.Elements("meeting").Count() ?? 0;
        var index = await client.GetAsync(server, string.Empty, new BbbParameters(), ct: ct);
        string? version = null;
        if (index.IsSuccess)
        {
            version = index.Element("bbbVersion") is { Length: > 0 } v ? v : index.Element("version");
        }

        return new ProbeOutcome(true, null, version, count);
    }

    /// <summary>Applies a probe's outcome to the server's record, exactly as a poll would judge it.</summary>
    /// <returns>Whether the server went online or offline with this probe.</returns>
    public bool Apply(Server server, ProbeOutcome outcome)
    {
        var before = server.Online;
        var after = health.Next(new HealthState(server.Online, server.HealthyCounter, server.UnhealthyCounter), outcome.Success);
        server.Online = after.Online;
        server.HealthyCounter = after.HealthyCounter;
        server.UnhealthyCounter = after.UnhealthyCounter;
        server.LastPolledAt = time.GetUtcNow();
        server.LastPollError = outcome.Error is { Length: > 1000 } e ? e[..1000] : outcome.Error;
        if (outcome.Success)
        {
            server.BbbVersion = outcome.BbbVersion ?? server.BbbVersion;
            if (after.Online && outcome.Meetings == 0)
            {
                // An empty server's load is known exactly; with this, an enabled node can be placed on before the next poll.
                server.Meetings = server.Users = server.LargestMeeting = server.Videos = 0;
                server.Load = 0;
            }
        }

        if (!after.Online)
        {
            server.Load = null;
        }

        return before != after.Online;
    }

    /// <summary>Creates a short test meeting on the server and ends it: the server really hosts meetings.</summary>
    /// <returns>null when it passed, else why not.</returns>
    public async Task<string?> TestMeetingAsync(ServerSnapshot server, CancellationToken ct)
    {
        var meetingId = "scalelite-admission-" + Guid.NewGuid().ToString("N");
        var created = await client.GetAsync(server, "create", new BbbParameters()
            .Add("meetingID", meetingId).Add("name", "Scalelite admission test").Add("record", "false"), ct: ct);
        if (!created.IsSuccess)
        {
            return $"the admission test meeting could not be created ({created.Error ?? created.MessageKey + ": " + created.Message})";
        }

        var ended = await client.GetAsync(server, "end", new BbbParameters().Add("meetingID", meetingId), ct: ct);
        return ended.IsSuccess ? null : $"the admission test meeting could not be ended ({ended.Error ?? ended.MessageKey + ": " + ended.Message})";
    }
}
