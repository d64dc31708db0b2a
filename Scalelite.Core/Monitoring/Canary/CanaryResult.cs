namespace Scalelite.Core.Monitoring.Canary;

/// <summary>One step of a canary run: whether it passed, how long it took, and the server's answer when it did not.</summary>
public sealed record CanaryStepResult(string Step, bool Succeeded, TimeSpan Duration, string? Answer);

/// <summary>One canary run on one server: the test meeting and each step taken.</summary>
public sealed record CanaryResult(string ServerId, string ServerHost, string MeetingId, string? InternalMeetingId, DateTimeOffset At, IReadOnlyList<CanaryStepResult> Steps)
{
    /// <summary>The first step that failed; null when the run passed.</summary>
    public CanaryStepResult? Failure => Steps.FirstOrDefault(s => !s.Succeeded);

    public bool Succeeded => Failure is null;
}

/// <summary>A server's latest canary run, and how many runs in a row have failed.</summary>
public sealed record CanaryStatus(CanaryResult Latest, int ConsecutiveFailures);

/// <summary>The latest canary run of each server the canary runs on; written by one round at a time, read by anyone.</summary>
public sealed class CanaryResults
{
    private IReadOnlyDictionary<string, CanaryStatus> _latest = new Dictionary<string, CanaryStatus>(StringComparer.Ordinal);

    public IReadOnlyCollection<CanaryStatus> Latest => [.. Volatile.Read(ref _latest).Values];

    public CanaryStatus? Find(string serverId) => Volatile.Read(ref _latest).GetValueOrDefault(serverId);

    /// <summary>
    /// Takes a round's results; a server the round did not run on (offline, disabled, removed) is dropped, since the
    /// canary no longer speaks for it. Returns each server's status before and after.
    /// </summary>
    public IReadOnlyList<(CanaryStatus? Before, CanaryStatus After)> Record(IReadOnlyList<CanaryResult> round)
    {
        var before = Volatile.Read(ref _latest);
        var after = new Dictionary<string, CanaryStatus>(StringComparer.Ordinal);
        var changes = new List<(CanaryStatus?, CanaryStatus)>(round.Count);
        foreach (var result in round)
        {
            var previous = before.GetValueOrDefault(result.ServerId);
            var status = new CanaryStatus(result, result.Succeeded ? 0 : (previous?.ConsecutiveFailures ?? 0) + 1);
            after[result.ServerId] = status;
            changes.Add((previous, status));
        }

        Volatile.Write(ref _latest, after);
        return changes;
    }
}
