using Microsoft.Extensions.Logging;
using Scalelite.Core.Meetings;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Lifecycle;
using Scalelite.Core.State;

namespace Scalelite.Core.Pool.Health;

/// <summary>What applying one probe changed about a server's verdict.</summary>
public readonly record struct HealthChange(bool WasOnline, bool IsOnline)
{
    public bool Changed => WasOnline != IsOnline;

    public bool WentOffline => WasOnline && !IsOnline;

    public bool CameOnline => !WasOnline && IsOnline;
}

/// <summary>
/// Where a probe's result takes effect on a server: the one place for the poller and for an admission alike.
/// </summary>
/// <remarks>
/// <para>The result goes through <see cref="HealthPolicy"/> (hysteresis), then the record gets the new counters,
/// the poll's time and error, the version the server reported, and what is known of its load. An offline server's
/// load is unknown (null), so it is never placed on.</para>
/// <para>Going offline clears what the server was seen to run and forgets its meetings in Redis, so that the next
/// create places them elsewhere (live meetings are not migrated). While Redis is down (<see cref="IRedisBreaker"/>)
/// that step is skipped, and the record's verdict stands alone: the poller forgets the meetings of every offline server
/// once Redis answers again. Every change of verdict is written to the audit trail, in the caller's save.</para>
/// <para><see cref="ApplyAsync"/> does all its work on the record and the <see cref="ScaleliteDbContext"/> before it
/// returns: the poller applies every server's probe on one context, one after the other on one thread, and then
/// awaits the Redis work of all of them together.</para>
/// </remarks>
public sealed partial class ServerHealth(
    HealthPolicy policy, MeetingRegistry registry, IRedisBreaker breaker, ServerEventLog events, MeetingEvents meetings, ILogger<ServerHealth> logger)
{
    /// <summary>The longest poll error kept on the record.</summary>
    public const int MaxErrorLength = 1000;

    /// <param name="db">The context <paramref name="server"/> is tracked by; the audit event is added to it, not saved.</param>
    /// <param name="observed">The server's load as the caller computed it from this probe, or null when it is not known
    /// (the load recorded before is kept while the server stays online).</param>
    /// <param name="actor">Who probed, for the audit trail.</param>
    public Task<HealthChange> ApplyAsync(ScaleliteDbContext db, Server server, ProbeResult probe, ServerObservation? observed, string actor)
    {
        var after = policy.Next(new HealthState(server.Online, server.HealthyCounter, server.UnhealthyCounter), probe.Success);
        var change = new HealthChange(server.Online, after.Online);
        server.Online = after.Online;
        server.HealthyCounter = after.HealthyCounter;
        server.UnhealthyCounter = after.UnhealthyCounter;
        server.LastPolledAt = probe.At;
        server.LastPollError = probe.Error is { Length: > MaxErrorLength } e ? e[..MaxErrorLength] : probe.Error;
        if (probe.Success)
        {
            server.BbbVersion = probe.BbbVersion ?? server.BbbVersion;
            if (observed is not null)
            {
                server.Meetings = observed.Meetings;
                server.Users = observed.Users;
                server.LargestMeeting = observed.LargestMeeting;
                server.Videos = observed.Videos;
                server.Load = observed.Load;
            }
        }

        if (!after.Online)
        {
            server.Load = null;
        }

        if (change.WentOffline)
        {
            server.Meetings = server.Users = server.LargestMeeting = server.Videos = 0;
        }

        if (change.Changed)
        {
            events.Add(db, server.Id, after.Online ? ServerActions.Online : ServerActions.Offline, actor,
                after.Online ? "probe succeeded" : probe.Error, server.State, server.State);
        }

        if (change.CameOnline)
        {
            Log.CameOnline(logger, server.Id);
        }

        return change.WentOffline ? ForgetMeetingsAsync(ServerSnapshot.From(server), probe.Error, change) : Task.FromResult(change);
    }

    private async Task<HealthChange> ForgetMeetingsAsync(ServerSnapshot server, string? error, HealthChange change)
    {
        if (!breaker.IsOpen)
        {
            try
            {
                // The internal IDs first, while the registry still holds them: each meeting's end is told with the ID its node knows.
                var internalIds = await registry.InternalMeetingIdsAsync(await registry.ServerMeetingsAsync(server.Id));
                var forgotten = await registry.ForgetServerAsync(server.Id);
                Log.WentOffline(logger, server.Id, forgotten.Count, error);
                foreach (var member in forgotten)
                {
                    meetings.Ended(MeetingIdentity.FromKey(member, server, internalIds.GetValueOrDefault(member)), MeetingEndCause.ServerOffline, error);
                }

                return change;
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
            }
        }

        Log.WentOfflineWithoutRedis(logger, server.Id, error);
        return change;
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Server {ServerId} is offline; forgot its {Count} meetings ({Error})")]
        public static partial void WentOffline(ILogger logger, string serverId, int count, string? error);

        [LoggerMessage(LogLevel.Warning, "Server {ServerId} is offline ({Error}); its meetings are forgotten in Redis once Redis answers again")]
        public static partial void WentOfflineWithoutRedis(ILogger logger, string serverId, string? error);

        [LoggerMessage(LogLevel.Information, "Server {ServerId} is online")]
        public static partial void CameOnline(ILogger logger, string serverId);
    }
}
