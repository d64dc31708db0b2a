namespace Scalelite.Tests.Support;

/// <summary>
/// Tests that read a service's <c>/metrics</c> values from a host started inside the test process; they run on their own.
/// </summary>
/// <remarks>
/// OpenTelemetry's meter provider listens to every meter of the process by name, not only to those of its own host's
/// meter factory. Another host started by a test running in parallel has instruments of the same names, and its
/// readings (zeros) mix into this host's scrape. One service per process, as deployed, has no such neighbour.
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}
