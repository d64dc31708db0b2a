using Scalelite.Core.Persistence;
using Scalelite.Core.State;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>Something that must be finished before a server may be removed without force.</summary>
public interface IRemovalGuard
{
    /// <returns>null when this guard does not hold the removal back, else why it does.</returns>
    Task<string?> BlockingReasonAsync(Server server, CancellationToken ct);
}

/// <summary>A server with meetings, known to us or reported by its last poll, is still in use.</summary>
public sealed class MeetingsRemovalGuard(MeetingRegistry registry) : IRemovalGuard
{
    public async Task<string?> BlockingReasonAsync(Server server, CancellationToken ct)
    {
        var owned = (await registry.ServerMeetingsAsync(server.Id)).Count;
        var reported = server.Online ? server.Meetings : 0;
        var meetings = Math.Max(owned, reported);
        return meetings > 0 ? $"it still has {meetings} meeting(s); drain it first" : null;
    }
}

// Recordings still arriving: see Recordings/RecordedMeetings.cs (PendingRecordingsRemovalGuard).
