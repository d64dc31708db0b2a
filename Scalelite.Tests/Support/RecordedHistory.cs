using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Scalelite.Core.Meetings;
using Scalelite.Core.Meetings.History;

namespace Scalelite.Tests.Support;

/// <summary>A meeting history that keeps what it is told in memory, for tests of the parts that tell it.</summary>
public sealed class RecordedHistory : IMeetingHistory
{
    public ConcurrentQueue<MeetingHistoryChange> Changes { get; } = new();

    public ConcurrentDictionary<(string Tenant, string MeetingId, string ServerId), long> Joins { get; } = new();

    public void Add(MeetingHistoryChange change) => Changes.Enqueue(change);

    public void CountJoin(string tenant, string meetingId, string serverId) => Joins.AddOrUpdate((tenant, meetingId, serverId), 1, (_, n) => n + 1);

    /// <summary>Meeting events that tell this history, and log nowhere.</summary>
    public MeetingEvents Events() => new(this, TimeProvider.System, NullLogger<MeetingEvents>.Instance);
}
