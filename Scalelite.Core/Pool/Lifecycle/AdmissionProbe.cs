using Scalelite.Core.Bbb;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>
/// Probes one server at once, as a poll would, so that a new node does not wait for the next poll cycle
/// to be judged; then judges whether it may be enabled, optionally after an admission test (create and end a test
/// meeting on it).
/// </summary>
/// <remarks>
/// A probe counts like a poll: it is the poller's <see cref="ServerProbe"/> and its result is applied by
/// <see cref="ServerHealth"/>, so the healthy threshold keeps its meaning (with a threshold of 3, three probes or
/// polls in a row must succeed) and going offline has the same effects. Of the load, only that of a server without
/// meetings is written (it is known exactly); otherwise meetings, load and ownership stay with the poller, which
/// knows the reservations.
/// </remarks>
public sealed class AdmissionProbe(ServerProbe probe, ServerHealth health, AdmissionPolicy policy, BbbClient client)
{
    /// <summary>Probes the server, applies the result to its record (saved by the caller with <paramref name="db"/>) and judges it.</summary>
    public async Task<AdmissionVerdict> ProbeAndJudgeAsync(ScaleliteDbContext db, Server server, bool testMeeting, Actor actor, CancellationToken ct)
    {
        var snapshot = ServerSnapshot.From(server);
        var result = await probe.ProbeAsync(snapshot, wantVersion: true, ct);
        var observed = result.Success && result.Meetings.Count == 0 ? ServerObservation.Empty : null;
        await health.ApplyAsync(db, server, result, observed, actor.Name);

        var verdict = policy.Evaluate(server);
        if (verdict.Admitted && testMeeting && await TestMeetingAsync(snapshot, ct) is { } failure)
        {
            verdict = new AdmissionVerdict(false, [failure]);
        }

        return verdict;
    }

    /// <summary>Creates a short test meeting on the server and ends it: the server really hosts meetings.</summary>
    /// <returns>null when it passed, else why not.</returns>
    private async Task<string?> TestMeetingAsync(ServerSnapshot server, CancellationToken ct)
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
