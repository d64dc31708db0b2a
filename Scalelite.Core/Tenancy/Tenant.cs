using Microsoft.AspNetCore.Http;

namespace Scalelite.Core.Tenancy;

/// <summary>Who an API request speaks for: its secrets, its parameter settings, its limits, and the prefix under which its meetings are kept.</summary>
public sealed record Tenant(string Id, string Name, IReadOnlyList<string> Secrets)
{
    /// <summary>The id of the default tenant: the only one while multitenancy is off, the bare host's when it is on.</summary>
    public const string DefaultId = "";

    public const string DefaultName = "default";

    /// <summary>Its default and override parameters for create and join.</summary>
    public TenantParameters Parameters { get; init; } = TenantParameters.None;

    public TenantLimits Limits { get; init; } = TenantLimits.None;

    public bool IsDefault => Id.Length == 0;
}

/// <summary>A tenant's limits; null means no limit.</summary>
/// <param name="MaxMeetings">Meetings running at once.</param>
/// <param name="MaxParticipants">Participants in all its meetings together, as the poller counts them.</param>
/// <param name="MaxMeetingParticipants">The largest <c>maxParticipants</c> a create may ask for (and what it gets when it asks for none).</param>
public sealed record TenantLimits(int? MaxMeetings, int? MaxParticipants, int? MaxMeetingParticipants)
{
    public static readonly TenantLimits None = new(null, null, null);

    public bool Any => MaxMeetings is not null || MaxParticipants is not null || MaxMeetingParticipants is not null;
}

/// <summary>What the poller last counted of a tenant's meetings (breakout rooms left out).</summary>
public readonly record struct TenantUsage(int Meetings, int Participants)
{
    public static readonly TenantUsage None = new(0, 0);
}

/// <summary>
/// A tenant's parameter settings, split by where they apply: each list in the order the operator added them.
/// </summary>
public sealed class TenantParameters
{
    public static readonly TenantParameters None = new([], [], [], []);

    public TenantParameters(
        IReadOnlyList<KeyValuePair<string, string>> createDefaults,
        IReadOnlyList<KeyValuePair<string, string>> createOverrides,
        IReadOnlyList<KeyValuePair<string, string>> joinDefaults,
        IReadOnlyList<KeyValuePair<string, string>> joinOverrides)
    {
        CreateDefaults = createDefaults;
        CreateOverrides = createOverrides;
        JoinDefaults = joinDefaults;
        JoinOverrides = joinOverrides;
    }

    public IReadOnlyList<KeyValuePair<string, string>> CreateDefaults { get; }

    public IReadOnlyList<KeyValuePair<string, string>> CreateOverrides { get; }

    public IReadOnlyList<KeyValuePair<string, string>> JoinDefaults { get; }

    public IReadOnlyList<KeyValuePair<string, string>> JoinOverrides { get; }

    /// <summary>
    /// Sorts settings into the four lists. A setting of scope <see cref="TenantSettingScope.All"/> (Scalelite's only kind)
    /// applies to create and join alike, except <c>meta_server-tag</c>, which only placement reads.
    /// </summary>
    public static TenantParameters From(IEnumerable<(string Param, string Value, bool Override, string Scope)> settings)
    {
        List<KeyValuePair<string, string>> createDefaults = [], createOverrides = [], joinDefaults = [], joinOverrides = [];
        foreach (var (param, value, isOverride, scope) in settings)
        {
            var pair = new KeyValuePair<string, string>(param, value);
            if (scope is TenantSettingScope.All or TenantSettingScope.Create)
            {
                (isOverride ? createOverrides : createDefaults).Add(pair);
            }

            if (scope is TenantSettingScope.All or TenantSettingScope.Join && param != "meta_server-tag")
            {
                (isOverride ? joinOverrides : joinDefaults).Add(pair);
            }
        }

        return createDefaults.Count + createOverrides.Count + joinDefaults.Count + joinOverrides.Count == 0
            ? None
            : new TenantParameters(createDefaults, createOverrides, joinDefaults, joinOverrides);
    }
}

/// <summary>The calls a tenant setting applies to.</summary>
public static class TenantSettingScope
{
    /// <summary>Create and join, as every Scalelite tenant setting.</summary>
    public const string All = "all";
    public const string Create = "create";
    public const string Join = "join";

    public static bool IsValid(string? scope) => scope is All or Create or Join;
}

/// <summary>
/// Resolves a request to a tenant before its checksum is checked; null means the request is refused (checksumError).
/// Also decides where a recording may be played: only where its tenant's API is served.
/// </summary>
public interface ITenantResolver
{
    Tenant? Resolve(HttpRequest request);
}

/// <summary>Multitenancy off: every request belongs to the default tenant, whose secrets are the load balancer's.</summary>
internal sealed class SingleTenantResolver(Microsoft.Extensions.Options.IOptions<Configuration.ScaleliteOptions> options) : ITenantResolver
{
    private readonly Tenant? _tenant = options.Value.SecretList() is { Count: > 0 } secrets ? new(Tenant.DefaultId, Tenant.DefaultName, secrets) : null;

    public Tenant? Resolve(HttpRequest request) => _tenant;
}
