namespace Scalelite.Core.Coordination;

/// <summary>Whether this process does the work that must happen once per pool: polling, the canary, alert evaluation.</summary>
/// <remarks>
/// The Poller's leader election answers it (several Poller instances may run; one leads). A process that runs no
/// election is the only instance of its kind and always leads (<see cref="SoleInstance"/>).
/// </remarks>
public interface IPoolLeadership
{
    /// <summary>True while this process should do the pool's once-per-pool work.</summary>
    bool IsLeading { get; }
}

/// <summary>The leadership of a process that runs no election: it is the only one, so it leads.</summary>
public sealed class SoleInstance : IPoolLeadership
{
    public bool IsLeading => true;
}
