using System.ComponentModel.DataAnnotations;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>Guard rails of the node lifecycle (section <c>Pool</c>).</summary>
public sealed class LifecycleOptions
{
    public const string Section = "Pool";

    /// <summary>Before enabling, create and end a test meeting on the server (a real admission test, not only a poll).</summary>
    public bool AdmissionTestMeeting { get; set; }

    /// <summary>Longest wait one drain request may ask for, in seconds (longer waits are cut to this).</summary>
    [Range(0, 86400)] public double MaxDrainWait { get; set; } = 300;
}
