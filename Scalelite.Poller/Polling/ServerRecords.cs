using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;
using Scalelite.Core.Recordings;
using Scalelite.Core.State;

namespace Scalelite.Poller.Polling;

/// <summary>The servers a poll cycle works on, as PostgreSQL holds them or, while it does not answer, as the last cycle left them.</summary>
/// <param name="Servers">Tracked by the cycle's context when read from PostgreSQL; plain objects otherwise.</param>
public sealed record PolledServers(List<Server> Servers, bool FromDatabase);

/// <summary>
/// The poller's copy of the servers' record: read from PostgreSQL each cycle, kept in memory while PostgreSQL does not
/// answer, and written back once it does.
/// </summary>
/// <remarks>
/// <para>Health must not wait for the database: a server that dies during a PostgreSQL outage must still leave the
/// placement ranking, lose its meetings and stop receiving joins. So a cycle that cannot read PostgreSQL works on the
/// servers as the previous cycle left them, with their counters, verdicts and loads, and everything it concludes goes
/// where it can: Redis, as always (ranking, ownership), and the verdicts published for the API replicas
/// (<see cref="UnsavedVerdicts"/>). A poller that starts while PostgreSQL is down has no servers to poll and waits.</para>
/// <para>What PostgreSQL missed is kept: each server's latest observation, the audit events (a server that went
/// offline is in the trail at the time it happened) and the recorded meetings seen. The first cycle that reads
/// PostgreSQL again lays the kept observations over what it read, unless the record is newer (an operator's probe
/// won), re-adds the events, and saves them with its own; then the published verdicts are withdrawn. Operator fields
/// (state, URL, secret, tag, multiplier) always come from PostgreSQL: nobody can change them while it is down. A
/// recorded meeting kept from the outage is written with the cycle's time as last seen, a little later than it was:
/// a server's retirement waits that much longer for its recordings, never less.</para>
/// <para>Publishing and withdrawing the verdicts is best effort behind <see cref="IRedisBreaker"/>: while Redis is down
/// too, the verdicts reach no API replica (each keeps routing on the snapshot it holds) and are published by the first
/// cycle that reaches Redis; a withdrawal Redis missed is tried again by the next cycle.</para>
/// </remarks>
public sealed class ServerRecords(UnsavedVerdicts verdicts, IRedisBreaker breaker, TimeProvider time, ILogger<ServerRecords> logger)
{
    private readonly OutageLog _outage = new(logger, "PostgreSQL", time);
    private readonly Dictionary<string, (string ServerId, string MeetingId)> _recorded = new(StringComparer.Ordinal);
    private List<Server> _lastKnown = [];
    private List<ServerEvent> _events = [];
    private bool _unsaved;

    // A poller that stopped during an outage may have left verdicts behind: the first save withdraws them.
    private bool _published = true;

    /// <summary>The servers to poll, or null when PostgreSQL does not answer and no cycle has read them yet.</summary>
    public async Task<PolledServers?> LoadAsync(ScaleliteDbContext db, CancellationToken ct)
    {
        try
        {
            var servers = await db.Servers.ToListAsync(ct);
            if (_unsaved)
            {
                Restore(db, servers);
            }

            return new PolledServers(servers, FromDatabase: true);
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e))
        {
            _outage.Failed(e);
            // The events kept so far go on the cycle's context, so that what it adds is collected with them.
            db.ServerEvents.AddRange(_events.Select(Copy));
            return _lastKnown.Count == 0 ? null : new PolledServers(_lastKnown, FromDatabase: false);
        }
    }

    /// <summary>
    /// Saves the cycle's observations, its audit events and the recorded meetings it saw; when PostgreSQL does not
    /// take them, keeps them for a later cycle and publishes the verdicts. Returns whether they were saved.
    /// </summary>
    public async Task<bool> SaveAsync(
        ScaleliteDbContext db, PolledServers polled, IReadOnlyCollection<(string ServerId, string MeetingId, string InternalMeetingId)> recorded, DateTimeOffset now, CancellationToken ct)
    {
        _lastKnown = polled.Servers;
        if (polled.FromDatabase)
        {
            try
            {
                var seen = recorded.ToList();
                var current = recorded.Select(r => r.InternalMeetingId).ToHashSet(StringComparer.Ordinal);
                seen.AddRange(_recorded.Where(r => !current.Contains(r.Key)).Select(r => (r.Value.ServerId, r.Value.MeetingId, r.Key)));
                await RecordedMeetings.TrackAsync(db, seen, now, ct);
                await SaveChangesAsync(db, ct);
                _outage.Succeeded();
                _unsaved = false;
                _events = [];
                _recorded.Clear();
                if (_published && await RedisAsync(verdicts.WithdrawAsync))
                {
                    _published = false;
                }

                return true;
            }
            catch (Exception e) when (DatabaseOutage.IsOutage(e))
            {
                _outage.Failed(e);
            }
        }

        _unsaved = true;
        _events = [.. db.ChangeTracker.Entries<ServerEvent>().Where(e => e.State == EntityState.Added).Select(e => e.Entity)];
        foreach (var (serverId, meetingId, internalMeetingId) in recorded)
        {
            _recorded[internalMeetingId] = (serverId, meetingId);
        }

        await RedisAsync(() => verdicts.PublishAsync(polled.Servers));
        // Even when Redis missed this one, an earlier publication may stand: the first save withdraws whatever is there.
        _published = true;
        return false;
    }

    /// <summary>A Redis step: false when it was skipped (the breaker is open) or Redis failed it.</summary>
    private async Task<bool> RedisAsync(Func<Task> step)
    {
        if (breaker.IsOpen)
        {
            return false;
        }

        try
        {
            await step();
            return true;
        }
        catch (Exception e) when (breaker.Trips(e))
        {
            return false;
        }
    }

    /// <summary>Lays what the cycles during the outage observed over the record just read, and re-adds their audit events.</summary>
    private void Restore(ScaleliteDbContext db, List<Server> servers)
    {
        var kept = _lastKnown.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var server in servers)
        {
            if (!kept.TryGetValue(server.Id, out var observed) || observed.LastPolledAt <= server.LastPolledAt)
            {
                continue;
            }

            server.Online = observed.Online;
            server.HealthyCounter = observed.HealthyCounter;
            server.UnhealthyCounter = observed.UnhealthyCounter;
            server.LastPolledAt = observed.LastPolledAt;
            server.LastPollError = observed.LastPollError;
            server.BbbVersion = observed.BbbVersion;
            server.Meetings = observed.Meetings;
            server.Users = observed.Users;
            server.LargestMeeting = observed.LargestMeeting;
            server.Videos = observed.Videos;
            server.Load = observed.Load;
        }

        var known = servers.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        db.ServerEvents.AddRange(_events.Where(e => known.Contains(e.ServerId)).Select(Copy));
    }

    // A fresh entity: the failed save may have left key values on the old one.
    private static ServerEvent Copy(ServerEvent e) => new()
    {
        ServerId = e.ServerId,
        Action = e.Action,
        Actor = e.Actor,
        Reason = e.Reason,
        FromState = e.FromState,
        ToState = e.ToState,
        At = e.At,
    };

    /// <summary>Saves; a server deleted while the probes were out is skipped, not fatal.</summary>
    private static async Task SaveChangesAsync(ScaleliteDbContext db, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException ex) when (attempt < 3)
            {
                foreach (var entry in ex.Entries)
                {
                    entry.State = EntityState.Detached;
                }
            }
        }
    }
}
