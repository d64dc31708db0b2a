using System.ComponentModel.DataAnnotations;
using Scalelite.Core.Configuration;

namespace Scalelite.Api.FreeSwitch;

/// <summary>FreeSWITCH dial-in settings (section <c>FsApi</c>); see <see cref="SettingCatalog"/> for each one's Scalelite name.</summary>
public sealed class FsApiOptions : IValidatableObject
{
    public const string Section = "FsApi";

    /// <summary>The Basic-auth password of user <c>fsapi</c>. Unset: the first load-balancer secret; empty: no authentication.</summary>
    public string? Password { get; set; }

    /// <summary>Minutes after which a dialled-in call is hung up; unset: <c>MAX_MEETING_DURATION</c>; 0: never.</summary>
    [Range(0, 525600)] public int? MaxDuration { get; set; }

    /// <summary>Fewest digits the PIN prompt accepts.</summary>
    [Range(1, 32)] public int VoiceBridgeMin { get; set; } = 5;

    /// <summary>Most digits the PIN prompt accepts.</summary>
    [Range(1, 32)] public int VoiceBridgeMax { get; set; } = 9;

    /// <summary>The password in force, or null when authentication is off.</summary>
    public string? EffectivePassword(ScaleliteOptions balancer) =>
        Password is null ? (balancer.SecretList() is [var first, ..] ? first : null) : Password.Length == 0 ? null : Password;

    /// <summary>The hang-up timer of a dialled-in call, in seconds; 0 for none.</summary>
    public long HangUpAfterSeconds(ScaleliteOptions balancer) => (MaxDuration ?? balancer.MaxMeetingDuration) * 60L;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (VoiceBridgeMax < VoiceBridgeMin)
        {
            yield return new ValidationResult("VOICE_BRIDGE_MAX must not be smaller than VOICE_BRIDGE_MIN.", [nameof(VoiceBridgeMax)]);
        }
    }
}
