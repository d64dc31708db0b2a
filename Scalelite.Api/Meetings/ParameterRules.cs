using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;

namespace Scalelite.Api.Meetings;

/// <summary>
/// The operator's create and join parameter rules: defaults &lt; request &lt; overrides, then excluded
/// parameters dropped. (Tenant defaults and overrides slot in between once tenants exist.)
/// </summary>
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

    public BbbParameters ApplyCreate(BbbParameters request) => _create.Apply(request);

    public BbbParameters ApplyJoin(BbbParameters request) => _join.Apply(request);

    private sealed record Rule(IReadOnlyList<KeyValuePair<string, string>> Defaults, IReadOnlyList<KeyValuePair<string, string>> Overrides, IReadOnlySet<string> Excluded)
    {
        public BbbParameters Apply(BbbParameters request)
        {
            var result = request.Clone();
            foreach (var (key, value) in Defaults)
            {
                if (!result.Contains(key))
                {
                    result.Add(key, value);
                }
            }

            foreach (var (key, value) in Overrides)
            {
                result.Set(key, value);
            }

            foreach (var key in Excluded)
            {
                result.Remove(key);
            }

            return result;
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
