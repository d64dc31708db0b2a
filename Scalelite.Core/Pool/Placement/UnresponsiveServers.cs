using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.State;
using StackExchange.Redis;

namespace Scalelite.Core.Pool.Placement;

/// <summary>Servers that left a create unanswered: new meetings go elsewhere until a probe of theirs succeeds.</summary>
/// <remarks>
/// <para>A hung server costs a create the whole response timeout before placement moves on, and the poller takes
/// <c>SERVER_UNHEALTHY_THRESHOLD</c> polls to take it out. Meanwhile it keeps the lowest load (the seats of a failed
/// create are given back), so every create would pick it first and wait as long. A server that does not answer a
/// create (timed out, refused, an HTTP error, a body that is not BBB's XML) is therefore skipped by the creates that
/// follow: on this replica at once, on the others as soon as they hear of it on a Redis channel.</para>
/// <para>The skip ends when this replica's server snapshot shows a successful probe sent after the create failed
/// (the poller's next good poll, or an operator's probe), or after <c>SERVER_UNHEALTHY_THRESHOLD + 1</c> poll
/// intervals in any case: by then the poller has taken a dead server offline or seen it answer, so a skip that
/// outlives that means the snapshot is stale (PostgreSQL or the poller is down), and one create may try the server
/// again. The API's and the poller's clocks are taken to agree, as for <c>Poller__ReconcileGrace</c>.</para>
/// <para>When every candidate is skipped, they are all tried anyway: a create that may wait beats one that surely fails.</para>
/// <para>While Redis is down (<see cref="IRedisBreaker"/> open) a skip is not published: each replica finds out on its
/// own, at the cost of one create each.</para>
/// </remarks>
public sealed class UnresponsiveServers : IHostedService, IDisposable
{
    internal static readonly RedisChannel Channel = RedisChannel.Literal("sl:unresponsive");

    private readonly ConcurrentDictionary<string, DateTimeOffset> _since = new(StringComparer.Ordinal);
    private readonly IConnectionMultiplexer _redis;
    private readonly IRedisBreaker _breaker;
    private readonly TimeProvider _time;
    private readonly TimeSpan _longest;
    private readonly RedisSubscription _skips;

    public UnresponsiveServers(IConnectionMultiplexer redis, IRedisBreaker breaker, TimeProvider time, IOptions<PollerOptions> poller)
    {
        _redis = redis;
        _breaker = breaker;
        _time = time;
        _longest = TimeSpan.FromSeconds(poller.Value.Interval * (poller.Value.UnhealthyThreshold + 1));
        _skips = new RedisSubscription(redis, Channel, (_, serverId) => Skip(serverId.ToString()), time);
    }

    /// <summary>Hears of the servers other replicas skip; until that succeeds, only this replica's own failures count.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => _skips.TryAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A create sent to <paramref name="serverId"/> got no answer: skip it here, and tell the other replicas.</summary>
    public async Task ReportAsync(string serverId)
    {
        Skip(serverId);
        if (_breaker.IsOpen)
        {
            return;
        }

        try
        {
            await _redis.GetSubscriber().PublishAsync(Channel, serverId, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (_breaker.Trips(ex) || ex is RedisException)
        {
            // The other replicas find out on their own, one create each.
        }
    }

    /// <summary>The candidates without the servers being skipped; all of them when every one is skipped.</summary>
    public IReadOnlyList<ServerSnapshot> Filter(IReadOnlyList<ServerSnapshot> candidates)
    {
        if (_since.IsEmpty)
        {
            return candidates;
        }

        var answering = candidates.Where(s => !IsSkipped(s)).ToList();
        return answering.Count > 0 ? answering : candidates;
    }

    /// <summary>Whether new meetings should avoid this server (see the remarks for when that ends).</summary>
    public bool IsSkipped(ServerSnapshot server)
    {
        if (!_since.TryGetValue(server.Id, out var since))
        {
            return false;
        }

        var answeredSince = server.LastPollSucceeded && server.LastPolledAt > since;
        if (answeredSince || _time.GetUtcNow() - since >= _longest)
        {
            _since.TryRemove(new KeyValuePair<string, DateTimeOffset>(server.Id, since));
            return false;
        }

        return true;
    }

    /// <summary>Whether this replica currently skips the server with this id (as far as it knows without its snapshot).</summary>
    public bool IsSkipped(string serverId) => _since.ContainsKey(serverId);

    private void Skip(string serverId) => _since[serverId] = _time.GetUtcNow();

    public void Dispose() => _skips.Dispose();
}
