using System.Text;
using Scalelite.Core.Bbb;
using Scalelite.Core.Meetings;
using Scalelite.Core.Pool;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>One canary run on one server: a real meeting created, joined, looked up and ended there, each step timed.</summary>
/// <remarks>
/// <para>Only a real meeting proves a node works: a node can answer getMeetings (so the poller sees it healthy) and still
/// refuse creates, or create meetings nobody can join. The run talks to the server directly with its own secret, as
/// every backend call does, never through placement: the test meeting goes to the server under test, takes no seats,
/// and is recognised by its ID everywhere else (<see cref="CanaryMeeting"/>).</para>
/// <para>The steps: <c>create</c> (<c>record=false</c> and no recording controls, so BBB never records it; it ends by
/// itself within a minute if the end below is lost), <c>join</c> with <c>redirect=false</c> (BBB answers with the
/// session it made for the user instead of a redirect: that proves the node let someone in without a browser having to
/// follow), <c>getMeetingInfo</c> (the node knows the meeting it made), <c>end</c>. A step fails on no answer, an HTTP
/// error, a body that is not BBB XML, a FAILED answer, or a SUCCESS that lacks what the step is for. A failed run stops at
/// its first failing step but still ends the meeting when it was created. Each step is bounded by the backend response
/// timeout.</para>
/// </remarks>
public sealed class CanaryProbe(BbbClient client, CanaryMetrics metrics, TimeProvider time)
{
    public const string Create = "create";
    public const string Join = "join";
    public const string GetMeetingInfo = "getMeetingInfo";
    public const string End = "end";

    private const int MaxAnswerLength = 300;

    public async Task<CanaryResult> RunAsync(ServerSnapshot server, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var meetingId = CanaryMeeting.NewId(server.Id, at);
        var meeting = MeetingIdentity.On(server, string.Empty, meetingId);
        using var span = MeetingTelemetry.Source.StartActivity("canary");
        MeetingTelemetry.Tag(span, meeting);

        var steps = new List<CanaryStepResult>(4);
        var create = await StepAsync(server, Create, new BbbParameters()
            .Add("meetingID", meetingId)
            .Add("name", "Scalelite canary")
            .Add("record", "false")
            .Add("autoStartRecording", "false")
            .Add("allowStartStopRecording", "false")
            .Add("duration", "1")
            .Add("meetingExpireIfNoUserJoinedInMinutes", "1")
            .Add(CanaryMeeting.Marker, "true"),
            r => r.Element("internalMeetingID") is { Length: > 0 } ? null : "SUCCESS without an internalMeetingID", steps, ct);
        var internalId = create.Element("internalMeetingID");
        MeetingTelemetry.Tag(span, meeting with { InternalMeetingId = internalId });

        if (steps[^1].Succeeded)
        {
            var join = new BbbParameters()
                .Add("meetingID", meetingId)
                .Add("fullName", "Scalelite canary")
                .Add("userID", "scalelite-canary")
                .Add("role", "VIEWER")
                .Add("redirect", "false");
            // BBB before 2.4 knows no role: the attendee password says it instead (later versions take the role).
            if (create.Element("attendeePW") is { Length: > 0 } password)
            {
                join.Add("password", password);
            }

            await StepAsync(server, Join, join,
                r => r.Element("session_token") is { Length: > 0 } || r.Element("url") is { Length: > 0 } ? null : "SUCCESS without a session_token or url", steps, ct);
            if (steps[^1].Succeeded)
            {
                await StepAsync(server, GetMeetingInfo, new BbbParameters().Add("meetingID", meetingId),
                    r => r.Element("meetingID") == meetingId ? null : $"SUCCESS for another meeting ({r.Element("meetingID")})", steps, ct);
            }

            await StepAsync(server, End, new BbbParameters().Add("meetingID", meetingId), _ => null, steps, ct);
        }
        else if (!create.Answered)
        {
            // The create may have reached the node all the same: end it, quietly (it also expires by itself).
            await client.GetAsync(server, "end", new BbbParameters().Add("meetingID", meetingId), ct: ct);
        }

        return new CanaryResult(server.Id, meeting.ServerHost!, meetingId, internalId, at, steps);
    }

    /// <summary>Runs one step, records it in <paramref name="steps"/> and the metrics, and returns the server's answer.</summary>
    /// <param name="check">What a SUCCESS must also hold: null when it does, else what is missing.</param>
    private async Task<BackendResponse> StepAsync(
        ServerSnapshot server, string step, BbbParameters parameters, Func<BackendResponse, string?> check, List<CanaryStepResult> steps, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        var response = await client.GetAsync(server, step, parameters, ct: ct);
        var elapsed = time.GetElapsedTime(started);
        var problem = !response.Answered ? response.Error ?? "no answer"
            : !response.IsSuccess ? $"{response.MessageKey}: {response.Message}"
            : check(response);
        var result = new CanaryStepResult(step, problem is null, elapsed, problem is null ? null : OneLine(problem));
        steps.Add(result);
        metrics.Step(server.Id, result);
        return response;
    }

    /// <summary>An answer fit for a one-line alert: control characters as spaces, and not too long.</summary>
    private static string OneLine(string text)
    {
        var line = new StringBuilder(Math.Min(text.Length, MaxAnswerLength));
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, MaxAnswerLength)))
        {
            line.Append(char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c);
        }

        return line.ToString().Trim();
    }
}
