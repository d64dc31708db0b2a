using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool.Capacity;

/// <summary>One server's part in the headroom report.</summary>
public sealed record ServerCapacity(string Id, string Url, ServerState State, bool Online, int? Capacity, int Users, bool Counted);

/// <summary>The pool's used and free capacity and whether it survives the loss of its largest node.</summary>
/// <param name="Judged">false when no counted server declares a capacity: nothing can be said.</param>
/// <param name="Capacity">Declared capacity of the counted servers, in users.</param>
/// <param name="Used">Users on the counted servers now.</param>
/// <param name="LargestServerId">The counted server with the largest capacity: the one whose loss hurts most.</param>
/// <param name="CapacityWithoutLargest">What is left when that server is lost.</param>
/// <param name="SurvivesLargestLoss">N+1: <see cref="Used"/> fits into <see cref="CapacityWithoutLargest"/>.</param>
/// <param name="Missing">Users of capacity to add for N+1 to hold (0 when it holds).</param>
/// <param name="Undeclared">Online, not disabled servers without a declared capacity; left out of the sums.</param>
public sealed record HeadroomReport(
    bool Judged,
    int Capacity,
    int Used,
    int Free,
    string? LargestServerId,
    int LargestCapacity,
    int CapacityWithoutLargest,
    bool SurvivesLargestLoss,
    int Missing,
    IReadOnlyList<string> Undeclared,
    IReadOnlyList<ServerCapacity> Servers)
{
    public string Summary => !Judged
        ? "no server declares a capacity: headroom unknown"
        : SurvivesLargestLoss
            ? $"N+1 holds: {Used} of {Capacity} users used, {CapacityWithoutLargest - Used} to spare without the largest server ({LargestServerId})"
            : $"N+1 does not hold: losing {LargestServerId} ({LargestCapacity} users) leaves {CapacityWithoutLargest} for {Used} users; {Missing} users of capacity missing";
}

/// <summary>Computes the headroom report from the servers as last observed.</summary>
/// <remarks>
/// Counted are the servers that hold or take meetings now: online and not disabled (a cordoned server still
/// hosts its meetings). Capacity is the sum of their declared capacities; used is the sum of their users. N+1
/// holds when the users would still fit after losing the counted server with the largest capacity:
/// <c>used ≤ capacity − largest</c>; otherwise <c>missing = used − (capacity − largest)</c>. Servers that declare
/// no capacity are left out of both sums (their users stay where they are, their room is unknown) and listed.
/// The load is today's as last polled: a pool at its daily peak is judged at that peak.
/// </remarks>
public static class HeadroomCalculator
{
    public static HeadroomReport Compute(IEnumerable<Server> servers)
    {
        var rows = new List<ServerCapacity>();
        var undeclared = new List<string>();
        int capacity = 0, used = 0, largest = 0;
        string? largestId = null;
        foreach (var s in servers.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            var active = s.Online && s.State != ServerState.Disabled;
            var counted = active && s.Capacity is not null;
            rows.Add(new ServerCapacity(s.Id, s.Url, s.State, s.Online, s.Capacity, s.Online ? s.Users : 0, counted));
            if (active && s.Capacity is null)
            {
                undeclared.Add(s.Id);
            }

            if (!counted)
            {
                continue;
            }

            capacity += s.Capacity!.Value;
            used += s.Users;
            if (s.Capacity.Value > largest || largestId is null)
            {
                largest = s.Capacity.Value;
                largestId = s.Id;
            }
        }

        var judged = largestId is not null;
        var without = capacity - largest;
        var missing = Math.Max(0, used - without);
        return new HeadroomReport(judged, capacity, used, Math.Max(0, capacity - used), largestId, largest, without,
            !judged || missing == 0, judged ? missing : 0, undeclared, rows);
    }
}
