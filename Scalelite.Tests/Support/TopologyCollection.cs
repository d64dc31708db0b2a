namespace Scalelite.Tests.Support;

/// <summary>
/// Tests that start whole topologies of processes. The launcher picks free ports and then hands them to child
/// processes; other tests binding ports in parallel could take one in between. So these run on their own, after
/// the parallel part of the run.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TopologyCollection
{
    public const string Name = "topology";
}
