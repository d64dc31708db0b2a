namespace Scalelite.Core.Pool.Placement;

/// <summary>What a create asks of placement: the meeting and its tag wish (from <c>meta_server-tag</c>).</summary>
public readonly record struct PlacementRequest(string MeetingKey, TagRequirement Tags);

/// <summary>
/// Placement's filter step: which servers may take a new meeting, and in which order ties are broken.
/// The pick among them (lowest load, seats reserved at once) is <see cref="MeetingPlacement"/>'s, made atomically
/// in Redis so that several API replicas agree.
/// </summary>
public interface IPlacementPolicy
{
    string Name { get; }

    /// <summary>
    /// The servers that may take the meeting, ordered so that among equal loads the first wins.
    /// Empty means none can; <see cref="PlacementCandidates.MissingTag"/> tells a required tag could not be met.
    /// </summary>
    PlacementCandidates Candidates(IReadOnlyList<ServerSnapshot> servers, PlacementRequest request);
}

public sealed record PlacementCandidates(IReadOnlyList<ServerSnapshot> Servers, string? MissingTag = null);

/// <summary>The <c>meta_server-tag</c> value: <c>a;b</c> prefers servers tagged a or b, <c>a;b!</c> requires them.</summary>
public sealed record TagRequirement(IReadOnlyList<string> Tags, bool Required)
{
    public static readonly TagRequirement None = new([], false);

    /// <summary>The tag an untagged server answers to, as in Scalelite: <c>none!</c> requires an untagged server.</summary>
    public const string Untagged = "none";

    public static TagRequirement Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return None;
        }

        var trimmed = value.Trim();
        var required = trimmed.EndsWith('!');
        var tags = trimmed.TrimEnd('!').Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return tags.Length == 0 ? None : new TagRequirement(tags, required);
    }

    public override string ToString() => string.Join(';', Tags) + (Required ? "!" : "");
}

/// <summary>Lowest load among enabled, online servers with a known load.</summary>
/// <remarks>
/// Filter, then order: tagged servers are kept for meetings that ask for their tag (as in Scalelite);
/// a meeting asking for a tag gets the matching servers, else falls back to untagged ones unless the
/// tag is required. Candidates are rotated by a hash of the meeting key, so that equal loads (an empty
/// pool at the top of the hour) spread over servers instead of piling onto the first one; the order is
/// deterministic, so every API replica breaks a tie the same way for the same meeting.
/// <para>The pick among the candidates, and why hinted seats count apart, is in <see cref="MeetingPlacement"/>.</para>
/// </remarks>
internal sealed class LeastLoadedPlacementPolicy : IPlacementPolicy
{
    public string Name => "LeastLoaded";

    public PlacementCandidates Candidates(IReadOnlyList<ServerSnapshot> servers, PlacementRequest request)
    {
        var available = servers.Where(s => s.Placeable && s.Load is not null).ToList();
        List<ServerSnapshot> chosen;
        if (request.Tags.Tags.Count > 0)
        {
            chosen = available.Where(s => request.Tags.Tags.Contains(string.IsNullOrEmpty(s.Tag) ? TagRequirement.Untagged : s.Tag, StringComparer.Ordinal)).ToList();
            if (chosen.Count == 0)
            {
                if (request.Tags.Required)
                {
                    return new PlacementCandidates([], request.Tags.ToString().TrimEnd('!'));
                }

                chosen = available.Where(s => string.IsNullOrEmpty(s.Tag)).ToList();
            }
        }
        else
        {
            chosen = available.Where(s => string.IsNullOrEmpty(s.Tag)).ToList();
        }

        if (chosen.Count <= 1)
        {
            return new PlacementCandidates(chosen);
        }

        chosen.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        var start = (int)(StableHash(request.MeetingKey) % (uint)chosen.Count);
        return new PlacementCandidates([.. chosen.Skip(start), .. chosen.Take(start)]);
    }

    /// <summary>FNV-1a: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
    internal static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }
}
