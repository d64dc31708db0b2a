using System.ComponentModel.DataAnnotations;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>The canary's settings (section <c>Canary</c>).</summary>
public sealed class CanaryOptions
{
    public const string Section = "Canary";

    /// <summary>Seconds between canary rounds (<c>CANARY_INTERVAL</c>); 0 turns the canary off.</summary>
    [Range(0, 86400)] public double Interval { get; set; } = 600;

    public bool Enabled => Interval > 0;
}
