using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool;

/// <summary>An immutable view of one server, as the API uses it on hot paths without a database round trip.</summary>
public sealed record ServerSnapshot(
    string Id,
    string Url,
    string Secret,
    string? Tag,
    ServerState State,
    bool Online,
    double LoadMultiplier,
    double? Load)
{
    public static ServerSnapshot From(Server s) => new(s.Id, s.Url, s.Secret, s.Tag, s.State, s.Online, s.LoadMultiplier, s.Load)
    {
        LastPolledAt = s.LastPolledAt,
        LastPollSucceeded = s.LastPolledAt is not null && s.LastPollError is null,
    };

    /// <summary>When the last probe (a poll or an operator's probe) was sent to it.</summary>
    public DateTimeOffset? LastPolledAt { get; init; }

    /// <summary>That probe was answered with SUCCESS.</summary>
    public bool LastPollSucceeded { get; init; }

    /// <summary>Meetings already on it may be reached (join, end, info): it is online and not disabled.</summary>
    public bool Reachable => Online && State != ServerState.Disabled;

    /// <summary>It may take new meetings.</summary>
    public bool Placeable => Online && State == ServerState.Enabled;
}
