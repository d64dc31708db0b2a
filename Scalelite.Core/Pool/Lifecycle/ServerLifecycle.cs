using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Meetings;
using Scalelite.Core.Persistence;
using Scalelite.Core.State;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>How a request to change a server ended.</summary>
public enum LifecycleStatus
{
    Done,

    /// <summary>No server has that id.</summary>
    NotFound,

    /// <summary>A guard rail held the change back; <see cref="LifecycleResult.Error"/> says why.</summary>
    Refused,

    /// <summary>The request itself is wrong (a missing or malformed value); <see cref="LifecycleResult.Error"/> says what.</summary>
    Invalid,
}

/// <summary>
/// The outcome of every change to a server, from <see cref="ServerLifecycle"/> and <see cref="ServerAdministration"/>
/// alike: the APIs turn <see cref="Status"/> into HTTP and show <see cref="Error"/> as it is.
/// </summary>
public sealed record LifecycleResult(LifecycleStatus Status, Server? Server, string? Error = null)
{
    public bool Succeeded => Status == LifecycleStatus.Done;

    public static LifecycleResult Missing(string id) => new(LifecycleStatus.NotFound, null, $"Couldn't find server with id={id}");

    public static LifecycleResult Rejected(string error) => new(LifecycleStatus.Invalid, null, error);
}

/// <summary>Where a drain stands.</summary>
public sealed record DrainProgress(string ServerId, ServerState State, bool Online, int MeetingsReported, int MeetingsOwned, bool Drained, bool TimedOut);

/// <summary>Who asks for a change and why; written to the audit trail.</summary>
public sealed record Actor(string Name, string? Reason = null)
{
    public static readonly Actor AdminApi = new("admin-api");
}

/// <summary>
/// The node lifecycle with its guard rails: enable (admission), cordon, disable, drain, probe, panic, remove.
/// Every change is written with an audit event in the same save.
/// </summary>
/// <remarks>
/// States are the operator's intent (enabled / cordoned / disabled); online / offline is the poller's
/// verdict and is independent. A drain is a cordon whose completion the poller detects (a cordoned server
/// that reports no meetings becomes disabled), so the transition has one owner whichever replica started it;
/// <see cref="WaitForDrainAsync"/> only watches for it.
/// </remarks>
public sealed class ServerLifecycle(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    MeetingRegistry registry,
    LoadRanking ranking,
    BbbClient client,
    AdmissionProbe admission,
    ServerEventLog events,
    IEnumerable<IRemovalGuard> removalGuards,
    IOptions<LifecycleOptions> options,
    TimeProvider time,
    MeetingEvents meetings)
{
    public static ServerState? ParseState(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "enable" or "enabled" => ServerState.Enabled,
        "cordon" or "cordoned" => ServerState.Cordoned,
        "disable" or "disabled" => ServerState.Disabled,
        _ => null,
    };

    /// <summary>Probes the server now and records the verdict; optionally also runs the admission test meeting.</summary>
    public async Task<(LifecycleResult Result, AdmissionVerdict? Verdict)> ProbeAsync(string id, bool testMeeting, Actor actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return (LifecycleResult.Missing(id), null);
        }

        var verdict = await admission.ProbeAndJudgeAsync(db, server, testMeeting, actor, ct);
        await db.SaveChangesAsync(ct);
        return (new LifecycleResult(LifecycleStatus.Done, server), verdict);
    }

    /// <summary>Moves a server to <paramref name="target"/>. Enabling is refused until the server is admitted.</summary>
    public async Task<LifecycleResult> SetStateAsync(string id, ServerState target, Actor actor, CancellationToken ct, bool? testMeeting = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return LifecycleResult.Missing(id);
        }

        var from = server.State;
        if (target == ServerState.Enabled && from != ServerState.Enabled)
        {
            var verdict = await admission.ProbeAndJudgeAsync(db, server, testMeeting ?? options.Value.AdmissionTestMeeting, actor, ct);
            if (!verdict.Admitted)
            {
                var error = $"Server id={id} cannot be enabled: {verdict.Explanation}";
                events.Add(db, id, ServerActions.EnableRefused, actor.Name, verdict.Explanation, from, from);
                await db.SaveChangesAsync(ct);
                return new LifecycleResult(LifecycleStatus.Refused, server, error);
            }
        }

        if (from != target)
        {
            server.State = target;
            server.UpdatedAt = time.GetUtcNow();
            events.Add(db, id, ActionFor(target), actor.Name, actor.Reason, from, target);
        }

        await db.SaveChangesAsync(ct);
        await UpdateRankingAsync(server);
        return new LifecycleResult(LifecycleStatus.Done, server);
    }

    /// <summary>Starts a drain: cordons the server (new meetings go elsewhere); the poller disables it once it has no meetings.</summary>
    public async Task<(LifecycleResult Result, DrainProgress? Progress)> DrainAsync(string id, Actor actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return (LifecycleResult.Missing(id), null);
        }

        if (server.State == ServerState.Enabled)
        {
            server.State = ServerState.Cordoned;
            server.UpdatedAt = time.GetUtcNow();
            events.Add(db, id, ServerActions.Drain, actor.Name, actor.Reason, ServerState.Enabled, ServerState.Cordoned);
            await db.SaveChangesAsync(ct);
            await ranking.RemoveAsync(id);
        }

        return (new LifecycleResult(LifecycleStatus.Done, server), await ProgressAsync(server, timedOut: false));
    }

    /// <summary>Where the drain of a server stands now.</summary>
    public async Task<DrainProgress?> DrainProgressAsync(string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return server is null ? null : await ProgressAsync(server, timedOut: false);
    }

    /// <summary>Waits until the server is disabled (its drain is complete) or <paramref name="timeout"/> passes.</summary>
    public async Task<DrainProgress?> WaitForDrainAsync(string id, TimeSpan timeout, CancellationToken ct, TimeSpan? pollEvery = null)
    {
        var limit = TimeSpan.FromSeconds(Math.Min(timeout.TotalSeconds, options.Value.MaxDrainWait));
        var started = time.GetTimestamp();
        while (true)
        {
            var progress = await DrainProgressAsync(id, ct);
            if (progress is null || progress.Drained)
            {
                return progress;
            }

            if (time.GetElapsedTime(started) >= limit)
            {
                return progress with { TimedOut = true };
            }

            await Task.Delay(pollEvery ?? TimeSpan.FromSeconds(1), time, ct);
        }
    }

    /// <summary>Forgets every meeting of the server, optionally ends them on it, and disables it unless <paramref name="keepState"/>.</summary>
    public async Task<(LifecycleResult Result, int Meetings)> PanicAsync(string id, bool endMeetings, bool keepState, Actor actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return (LifecycleResult.Missing(id), 0);
        }

        var forgotten = await ForgetMeetingsAsync(server, endMeetings, ct);
        var from = server.State;
        if (!keepState)
        {
            server.State = ServerState.Disabled;
            server.UpdatedAt = time.GetUtcNow();
        }

        var reason = $"{forgotten} meeting(s) forgotten{(endMeetings ? " and ended" : string.Empty)}" + (actor.Reason is { } r ? $": {r}" : string.Empty);
        events.Add(db, id, ServerActions.Panic, actor.Name, reason, from, server.State);
        await db.SaveChangesAsync(ct);
        await UpdateRankingAsync(server);
        return (new LifecycleResult(LifecycleStatus.Done, server), forgotten);
    }

    /// <summary>Deletes a server. Refused while a removal guard holds it back, unless forced (its meetings are then forgotten and ended).</summary>
    public async Task<LifecycleResult> RemoveAsync(string id, bool force, Actor actor, CancellationToken ct, bool endMeetingsWhenForced = true)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return LifecycleResult.Missing(id);
        }

        var blocking = new List<string>();
        foreach (var guard in removalGuards)
        {
            if (await guard.BlockingReasonAsync(server, ct) is { } reason)
            {
                blocking.Add(reason);
            }
        }

        if (blocking.Count > 0 && !force)
        {
            return new LifecycleResult(LifecycleStatus.Refused, server, $"Server id={id} cannot be removed: {string.Join("; ", blocking)} (or force it)");
        }

        var forgotten = await ForgetMeetingsAsync(server, endMeetings: force && endMeetingsWhenForced, ct);
        db.Servers.Remove(server);
        var note = force && blocking.Count > 0 ? $"forced past: {string.Join("; ", blocking)}; {forgotten} meeting(s) forgotten" : null;
        events.Add(db, id, ServerActions.Remove, actor.Name, string.Join(" | ", new[] { actor.Reason, note }.Where(s => s is not null)) is { Length: > 0 } why ? why : null, server.State);
        await db.SaveChangesAsync(ct);
        await ranking.RemoveAsync(id);
        return new LifecycleResult(LifecycleStatus.Done, server);
    }

    private async Task<int> ForgetMeetingsAsync(Server server, bool endMeetings, CancellationToken ct)
    {
        var internalIds = await registry.InternalMeetingIdsAsync(await registry.ServerMeetingsAsync(server.Id));
        var members = await registry.ForgetServerAsync(server.Id);
        var snapshot = ServerSnapshot.From(server);
        if (endMeetings && members.Count > 0)
        {
            await Task.WhenAll(members.Select(member =>
                client.GetAsync(snapshot, "end", new BbbParameters().Add("meetingID", member[(member.IndexOf(':', StringComparison.Ordinal) + 1)..]), ct: ct)));
        }

        foreach (var member in members)
        {
            meetings.Ended(MeetingIdentity.FromKey(member, snapshot, internalIds.GetValueOrDefault(member)), MeetingEndCause.Operator,
                endMeetings ? "forgotten and ended with its server" : "forgotten with its server (left running on it)");
        }

        return members.Count;
    }

    private async Task<DrainProgress> ProgressAsync(Server server, bool timedOut)
    {
        var owned = (await registry.ServerMeetingsAsync(server.Id)).Count;
        return new DrainProgress(server.Id, server.State, server.Online, server.Online ? server.Meetings : 0, owned,
            server.State == ServerState.Disabled, timedOut);
    }

    private async Task UpdateRankingAsync(Server server)
    {
        if (server.State == ServerState.Enabled && server.Online && server.Load is { } load)
        {
            await ranking.SetAsync(server.Id, load);
        }
        else if (server.State != ServerState.Enabled)
        {
            await ranking.RemoveAsync(server.Id);
        }
    }

    private static string ActionFor(ServerState state) => state switch
    {
        ServerState.Enabled => ServerActions.Enable,
        ServerState.Cordoned => ServerActions.Cordon,
        _ => ServerActions.Disable,
    };
}
