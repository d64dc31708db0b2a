using System.Diagnostics.Metrics;

namespace Scalelite.Core.Monitoring;

/// <summary>Creates placed, by the server chosen (meter <c>Scalelite.Api</c>; a create is rare enough for a plain counter).</summary>
public static class PlacementMetrics
{
    private static readonly Meter Meter = new("Scalelite.Api");
    private static readonly Counter<long> CreatesPlaced = Meter.CreateCounter<long>("scalelite.api.creates.placed", "{meeting}", "New meetings placed, by server.");

    public static void Placed(string serverId) => CreatesPlaced.Add(1, new KeyValuePair<string, object?>("server", serverId));
}
