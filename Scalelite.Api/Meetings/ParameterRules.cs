using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Meetings;

/// <summary>
/// The operator's create and join parameter rules, with Scalelite's precedence, low to high:
/// <c>DEFAULT_*_PARAMS</c> &lt; the tenant's defaults &lt; the request &lt; <c>OVERRIDE_*_PARAMS</c> &lt; the tenant's overrides.
/// </summary>
/// <remarks>
/// As in Scalelite, <c>CREATE_EXCLUDE_PARAMS</c> / <c>JOIN_EXCLUDE_PARAMS</c> are taken out of the request before the
/// merge: they stop the LMS from setting a parameter, while a default or an override of the operator's still applies.
/// A tenant setting without a scope applies to create and join alike, as Scalelite's settings do.
/// </remarks>
public sealed class ParameterRules
{
    private readonly Rule _create;
    private readonly Rule _join;

    public ParameterRules(IOptions<ScaleliteOptions> options)
    {
        var o = options.Value;
        _create = new Rule(Pairs(o.DefaultCreateParams), Pairs(o.OverrideCreateParams), Names(o.CreateExcludeParams));
        _join = new Rule(Pairs(o.DefaultJoinParams), Pairs(o.OverrideJoinParams), Names(o.JoinExcludeParams));
    }

    public BbbParameters ApplyCreate(BbbParameters request, Tenant? tenant = null) =>
        _create.Apply(request, tenant?.Parameters.CreateDefaults ?? [], tenant?.Parameters.CreateOverrides ?? []);

    public BbbParameters ApplyJoin(BbbParameters request, Tenant? tenant = null) =>
        _join.Apply(request, tenant?.Parameters.JoinDefaults ?? [], tenant?.Parameters.JoinOverrides ?? []);

    private sealed record Rule(IReadOnlyList<KeyValuePair<string, string>> Defaults, IReadOnlyList<KeyValuePair<string, string>> Overrides, IReadOnlySet<string> Excluded)
    {
        public BbbParameters Apply(BbbParameters request, IReadOnlyList<KeyValuePair<string, string>> tenantDefaults, IReadOnlyList<KeyValuePair<string, string>> tenantOverrides)
        {
            var result = request.Clone();
            if (Excluded.Count > 0)
            {
                foreach (var key in Excluded)
                {
                    result.Remove(key);
                }
            }

            // Defaults only fill what is missing, so the tenant's (added first) win over the global ones. Indexed
            // loops: this runs on every join, and an interface enumerator would be allocated per list.
            AddMissing(result, tenantDefaults);
            AddMissing(result, Defaults);
            SetAll(result, Overrides);
            SetAll(result, tenantOverrides);
            return result;
        }

        private static void AddMissing(BbbParameters parameters, IReadOnlyList<KeyValuePair<string, string>> defaults)
        {
            for (var i = 0; i < defaults.Count; i++)
            {
                if (!parameters.Contains(defaults[i].Key))
                {
                    parameters.Add(defaults[i].Key, defaults[i].Value);
                }
            }
        }

        private static void SetAll(BbbParameters parameters, IReadOnlyList<KeyValuePair<string, string>> overrides)
        {
            for (var i = 0; i < overrides.Count; i++)
            {
                parameters.Set(overrides[i].Key, overrides[i].Value);
            }
        }
    }

    /// <summary>Scalelite's format: <c>key=value,key2=value2</c>.</summary>
    internal static IReadOnlyList<KeyValuePair<string, string>> Pairs(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => p.Split('=', 2))
                .Where(kv => kv[0].Length > 0)
                .Select(kv => new KeyValuePair<string, string>(kv[0], kv.Length > 1 ? kv[1] : string.Empty))];

    private static HashSet<string> Names(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
