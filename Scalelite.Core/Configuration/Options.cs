using System.ComponentModel.DataAnnotations;
using Scalelite.Core.Bbb;

namespace Scalelite.Core.Configuration;

/// <summary>Load-balancer settings (section <c>Scalelite</c>); see <see cref="SettingCatalog"/> for each one's Scalelite name.</summary>
public sealed class ScaleliteOptions
{
    public const string Section = "Scalelite";

    public string? Secrets { get; set; }
    public string? AdditionalSecrets { get; set; }

    /// <summary>Secrets of the admin and operator APIs, separated by ':'; unset, the load-balancer secrets open them (as in Scalelite).</summary>
    public string? AdminSecrets { get; set; }
    public string? ChecksumAlgorithms { get; set; }
    public string? UrlHost { get; set; }
    [Range(0, int.MaxValue)] public int MaxMeetingDuration { get; set; }
    [Range(1, int.MaxValue)] public int MeetingTtl { get; set; } = 86400;
    public string? CreateExcludeParams { get; set; }
    public string? JoinExcludeParams { get; set; }
    public string? DefaultCreateParams { get; set; }
    public string? OverrideCreateParams { get; set; }
    public string? DefaultJoinParams { get; set; }
    public string? OverrideJoinParams { get; set; }
    public bool GetMeetingsApiDisabled { get; set; }
    [Range(5, 18)] public int VoiceBridgeLength { get; set; } = 9;
    public bool UseExternalVoiceBridge { get; set; }
    public bool MultitenancyEnabled { get; set; }
    [Range(0, 3600)] public int CreateDedupWindow { get; set; } = 30;
    [Range(1024, 16 * 1024 * 1024)] public int MaxQueryLength { get; set; } = 128 * 1024;
    public string? BuildNumber { get; set; }
    public bool ServerIdIsHostname { get; set; }

    /// <summary>Every accepted load-balancer secret, in order.</summary>
    public IReadOnlyList<string> SecretList() =>
        [.. $"{Secrets}:{AdditionalSecrets}".Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>
    /// The secrets that open Scalelite's admin API and the operator API: <see cref="AdminSecrets"/> when set, so that an
    /// LMS's secret is not also the operator's (Scalelite #1043), else the load-balancer secrets. Never a tenant's.
    /// </summary>
    public IReadOnlyList<string> AdminSecretList() =>
        string.IsNullOrWhiteSpace(AdminSecrets)
            ? SecretList()
            : [.. AdminSecrets.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    public ChecksumAlgorithms AcceptedAlgorithms() => Bbb.ChecksumAlgorithms.Parse(ChecksumAlgorithms);

    /// <summary>Backend calls are signed with SHA-256 by default, or the strongest configured algorithm (as Scalelite).</summary>
    public ChecksumAlgorithm BackendAlgorithm() =>
        string.IsNullOrWhiteSpace(ChecksumAlgorithms) ? ChecksumAlgorithm.Sha256 : AcceptedAlgorithms().Strongest;
}

public sealed class LoadOptions
{
    public const string Section = "Load";

    [Range(0, 100000)] public int MinUserCount { get; set; } = 15;

    /// <summary>Minutes.</summary>
    [Range(0, 24 * 60)] public double JoinBufferTime { get; set; } = 15;

    // The weights default to Scalelite's formula (participants + moderators), so loads compare across a migration.
    [Range(0, 1000)] public double UserWeight { get; set; } = 1;
    [Range(0, 1000)] public double ModeratorWeight { get; set; } = 1;
    [Range(0, 1000)] public double VideoWeight { get; set; }
    [Range(0, 100000)] public double MeetingWeight { get; set; }

    /// <summary>The largest size hint honoured, so that one LMS cannot reserve a whole server with a typo.</summary>
    [Range(0, 100000)] public int MaxSizeHint { get; set; } = 1000;
}

public sealed class PollerOptions
{
    public const string Section = "Poller";

    /// <summary>Seconds.</summary>
    [Range(0.05, 86400)] public double Interval { get; set; } = 60;
    [Range(1, 1000)] public int HealthyThreshold { get; set; } = 1;
    [Range(1, 1000)] public int UnhealthyThreshold { get; set; } = 2;

    /// <summary>Seconds.</summary>
    [Range(0, 86400)] public double ReconcileGrace { get; set; } = 5;
}

/// <summary>How long Redis may take before it is taken as down (section <c>Redis</c>); see <see cref="State.RedisBreaker"/>.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>Seconds a command, or connecting, may take.</summary>
    [Range(0.05, 60)] public double Timeout { get; set; } = 1;

    public TimeSpan CommandTimeout => TimeSpan.FromSeconds(Timeout);
}

public sealed class BackendOptions
{
    public const string Section = "Backend";

    /// <summary>Seconds.</summary>
    [Range(0.05, 600)] public double ConnectTimeout { get; set; } = 5;

    /// <summary>Seconds.</summary>
    [Range(0.05, 600)] public double ResponseTimeout { get; set; } = 10;

    /// <summary>Seconds; 0 means <see cref="ResponseTimeout"/>.</summary>
    [Range(0, 600)] public double FanOutTimeout { get; set; }

    public TimeSpan FanOut => TimeSpan.FromSeconds(FanOutTimeout > 0 ? FanOutTimeout : ResponseTimeout);
}
