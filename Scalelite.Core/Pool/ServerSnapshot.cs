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
    public static ServerSnapshot From(Server s) => new(s.Id, s.Url, s.Secret, s.Tag, s.State, s.Online, s.LoadMultiplier, s.Load);

    /// <summary>Meetings already on it may be reached (join, end, info): it is online and not disabled.</summary>
    public bool Reachable => Online && State != ServerState.Disabled;

    /// <summary>It may take new meetings.</summary>
    public bool Placeable => Online && State == ServerState.Enabled;
}
