using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;
using Scalelite.Core.State;

namespace Scalelite.Api.Meetings;

/// <summary>
/// The owners of meetings this replica placed while Redis could not be written, kept in memory and recorded in
/// Redis when it answers again; then the rule for a meeting that was placed twice.
/// </summary>
/// <remarks>
/// When Redis is back (a recovery step of <see cref="IRedisBreaker"/>, before it closes):
/// <list type="number">
/// <item>The registry is distrusted as after a flush (<see cref="MeetingRegistry.DistrustAsync"/>): other replicas may
/// have placed meetings that only they know of yet, so until the poller completes a cycle every replica checks a miss
/// against the servers rather than answer notFound.</item>
/// <item>This replica's remembered owners are dropped: Redis is the authority again.</item>
/// <item>Each meeting is recorded, unless another server owns it by now. Without a shared lock, two replicas can each
/// place the same meeting ID (each asks the servers first, so only when one server did not answer, or both asked at
/// the same moment). Then <b>the older copy wins</b>, by the createTime each server reports (equal times: the lower
/// server id): the registry names its server, and the newer copy is ended on its server, so that every join goes to
/// one meeting. Its users, if any joined it meanwhile, are sent out and rejoin the older one. A registry entry whose
/// server no longer runs the meeting, or does not answer, is simply replaced.</item>
/// </list>
/// </remarks>
public sealed partial class OwnershipBacklog(
    MeetingRegistry registry,
    MeetingOwnerCache owners,
    IServerDirectory directory,
    BbbClient client,
    IRedisBreaker breaker,
    IOptions<ScaleliteOptions> options,
    IOptions<BackendOptions> backend,
    ILogger<OwnershipBacklog> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, MeetingRecord> _records = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writing = new(1, 1);

    public MeetingRecord? Find(string tenantId, string meetingId) => _records.GetValueOrDefault(MeetingRegistry.MeetingKey(tenantId, meetingId));

    /// <summary>Keeps the owner of a meeting that Redis could not record (its <c>CreatedAt</c> is the server's createTime).</summary>
    public void Add(MeetingRecord record)
    {
        _records[record.Key] = record;
        owners.Remember(record.TenantId, record.MeetingId, record.ServerId);
        if (!breaker.IsOpen)
        {
            // Redis came back while this create was under way, after the backlog was written.
            _ = WriteLaterAsync();
        }
    }

    public void Remove(string tenantId, string meetingId) => _records.TryRemove(MeetingRegistry.MeetingKey(tenantId, meetingId), out _);

    /// <summary>Whether a meeting placed here without Redis has this voice bridge number.</summary>
    public bool HoldsVoiceBridge(string number) => FindByVoiceBridge(number) is not null;

    /// <summary>The meeting placed here without Redis that has this voice bridge number, if any.</summary>
    public MeetingRecord? FindByVoiceBridge(string number) => _records.Values.FirstOrDefault(r => r.VoiceBridge == number);

    /// <summary>The recovery step (see the remarks).</summary>
    public async Task RecoverAsync(CancellationToken ct)
    {
        await registry.DistrustAsync();
        owners.Clear();
        await WriteAsync(ct);
    }

    private async Task WriteAsync(CancellationToken ct)
    {
        await _writing.WaitAsync(ct);
        try
        {
            foreach (var record in _records.Values.ToList())
            {
                await RecordAsync(record, ct);
                // Unless the meeting was ended or placed anew meanwhile.
                _records.TryRemove(KeyValuePair.Create(record.Key, record));
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task WriteLaterAsync()
    {
        try
        {
            await WriteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            // Down again: the next recovery writes them.
        }
    }

    private async Task RecordAsync(MeetingRecord ours, CancellationToken ct)
    {
        var ttl = TimeSpan.FromSeconds(options.Value.MeetingTtl);
        string? replacing = null;
        // A third owner can only appear if yet another replica recorded one in between: a few rounds settle it.
        for (var round = 0; round < 3; round++)
        {
            var theirs = await registry.RecordUnlessOwnedElsewhereAsync(ours, ttl, replacing);
            if (theirs is null)
            {
                return;
            }

            var (running, server, info) = await AskAsync(theirs, ours.MeetingId, ct);
            if (!running)
            {
                replacing = theirs;
                continue;
            }

            var theirCreated = long.TryParse(info!.Element("createTime"), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.MaxValue;
            var oursIsOlder = ours.CreatedAt < theirCreated || (ours.CreatedAt == theirCreated && string.CompareOrdinal(ours.ServerId, theirs) < 0);
            if (oursIsOlder)
            {
                replacing = theirs;
                if (await registry.RecordUnlessOwnedElsewhereAsync(ours, ttl, replacing) is null)
                {
                    Log.KeptOlderCopy(logger, ours.Key, ours.ServerId, theirs);
                    await EndAsync(server!, ours.MeetingId, info.Element("moderatorPW"), ct);
                    return;
                }

                continue;
            }

            Log.KeptOlderCopy(logger, ours.Key, theirs, ours.ServerId);
            owners.Invalidate(ours.TenantId, ours.MeetingId);
            if (directory.Find(ours.ServerId) is { } mine)
            {
                await EndAsync(mine, ours.MeetingId, ours.ModeratorPassword, ct);
            }

            return;
        }
    }

    /// <summary>Whether <paramref name="serverId"/> runs the meeting, with its getMeetingInfo answer when it does.</summary>
    private async Task<(bool Running, ServerSnapshot? Server, BackendResponse? Info)> AskAsync(string serverId, string meetingId, CancellationToken ct)
    {
        if (directory.Find(serverId) is not { Reachable: true } server)
        {
            return (false, null, null);
        }

        var info = await client.GetAsync(server, "getMeetingInfo", new BbbParameters().Add("meetingID", meetingId), backend.Value.FanOut, ct);
        return (info.IsSuccess, server, info);
    }

    private async Task EndAsync(ServerSnapshot server, string meetingId, string? moderatorPassword, CancellationToken ct)
    {
        var parameters = new BbbParameters().Add("meetingID", meetingId);
        if (moderatorPassword is not null)
        {
            parameters.Add("password", moderatorPassword);
        }

        var ended = await client.GetAsync(server, "end", parameters, ct: ct);
        if (!ended.IsSuccess)
        {
            Log.EndFailed(logger, meetingId, server.Id, ended.MessageKey ?? ended.Error);
        }
    }

    public void Dispose() => _writing.Dispose();

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Meeting {MeetingKey} was placed twice while Redis was down: the older copy on server {Kept} is kept, the newer one on server {Ended} is ended")]
        public static partial void KeptOlderCopy(ILogger logger, string meetingKey, string kept, string ended);

        [LoggerMessage(LogLevel.Warning, "Ending the newer copy of meeting {MeetingId} on server {ServerId} failed: {Reason}")]
        public static partial void EndFailed(ILogger logger, string meetingId, string serverId, string? reason);
    }
}
