using Scalelite.Tests.EndToEnd;

namespace Scalelite.Tests.Support;

/// <summary>
/// Tests against the whole application started once through Aspire.Hosting.Testing (<see cref="ScaleliteAppFixture"/>).
/// They run on their own, after the parallel part of the run: the AppHost hands remembered ports to its resources, and
/// other tests binding ports in parallel could take one in between.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TopologyCollection : ICollectionFixture<ScaleliteAppFixture>
{
    public const string Name = "topology";
}

/// <summary>Tests that start the AppHost as its own process, as a user or a script does; also on their own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AppHostProcessCollection
{
    public const string Name = "apphost-process";
}

/// <summary>
/// Tests against the whole application with the API as three replicas (<see cref="ReplicatedAppFixture"/>); on their
/// own, like <see cref="TopologyCollection"/>, and for the same reason.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ApiReplicaCollection : ICollectionFixture<ReplicatedAppFixture>
{
    public const string Name = "api-replicas";
}
