using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;

namespace Scalelite.Core.Monitoring;

/// <summary>A server as the last finished poll cycle left it.</summary>
public sealed record PolledServer(
    string Id, string Url, ServerState State, bool Online, double? Load, int? Capacity, int Users, int Meetings, int FailedPolls, DateTimeOffset? LastSuccessAt);

/// <summary>
/// What the poller's cycles have seen, kept in the poller's memory for its alert checks and gauges: when the last cycle
/// finished, and every server as that cycle left it, with the time of its last successful poll.
/// </summary>
/// <remarks>
/// Kept in memory rather than read from PostgreSQL so that the pool's checks work during a PostgreSQL outage, when the
/// poller goes on from memory too. A poller that has not finished a cycle yet reports its start as the last cycle, so
/// a poller that never manages one is noticed after the same time as one that stopped.
/// </remarks>
public sealed class PollTracker(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _lastSuccess = new(StringComparer.Ordinal);
    private IReadOnlyList<PolledServer> _servers = [];

    /// <summary>When this instance began counting cycles: its start, or when it last began polling again.</summary>
    public DateTimeOffset StartedAt { get; private set; } = time.GetUtcNow();

    /// <summary>When the last cycle finished; null before the first.</summary>
    public DateTimeOffset? LastCycleAt { get; private set; }

    /// <summary>The servers as the last finished cycle left them (empty before the first).</summary>
    public IReadOnlyList<PolledServer> Servers
    {
        get
        {
            lock (_gate)
            {
                return _servers;
            }
        }
    }

    /// <summary>Forgets every cycle: this instance no longer polls (another one leads).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _lastSuccess.Clear();
            _servers = [];
            LastCycleAt = null;
            StartedAt = time.GetUtcNow();
        }
    }

    /// <summary>This instance polls again: without a cycle since, the wait for one counts from now.</summary>
    public void Resumed()
    {
        lock (_gate)
        {
            if (LastCycleAt is null)
            {
                StartedAt = time.GetUtcNow();
            }
        }
    }

    /// <summary>Called by the poll cycle once it is done; <paramref name="probes"/> are in the order of <paramref name="servers"/>.</summary>
    public void CycleFinished(IReadOnlyList<Server> servers, IReadOnlyList<ProbeResult> probes)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var list = new List<PolledServer>(servers.Count);
            for (var i = 0; i < servers.Count; i++)
            {
                var s = servers[i];
                if (probes[i].Success)
                {
                    _lastSuccess[s.Id] = probes[i].At;
                }

                list.Add(new PolledServer(s.Id, s.Url, s.State, s.Online, s.Load, s.Capacity, s.Online ? s.Users : 0, s.Online ? s.Meetings : 0,
                    s.UnhealthyCounter, _lastSuccess.TryGetValue(s.Id, out var at) ? at : null));
            }

            foreach (var gone in _lastSuccess.Keys.Except(list.Select(s => s.Id)).ToList())
            {
                _lastSuccess.Remove(gone);
            }

            _servers = list;
            LastCycleAt = now;
        }
    }
}
