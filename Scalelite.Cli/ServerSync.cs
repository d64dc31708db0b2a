using Scalelite.Core.Persistence;
using YamlDotNet.RepresentationModel;

namespace Scalelite.Cli;

/// <summary>What to do with servers that the file does not list, and how firmly to apply differences.</summary>
public enum SyncMode
{
    /// <summary>Servers not in the file are left alone; differences are applied gently (enabled → disabled drains).</summary>
    Keep,

    /// <summary>As keep, and servers not in the file are cordoned (they drain and end up disabled). Scalelite's default.</summary>
    Cordon,

    /// <summary>The pool becomes exactly the file: servers not in it are removed (their meetings ended), states are set at once, a changed URL replaces the server.</summary>
    Force,
}

/// <summary>One server as the sync file declares it.</summary>
public sealed record DesiredServer(string Key, string Url, string? Secret, string? State, double? LoadMultiplier, string? Tag, bool TagGiven, int? Capacity);

/// <summary>One step of a sync plan.</summary>
public sealed record SyncStep(string Kind, string? ServerId, string Description, DesiredServer? Desired = null, string? State = null, object? Changes = null);

/// <summary>Reads Scalelite's <c>servers:sync</c> YAML and plans the changes that bring the pool in line with it.</summary>
/// <remarks>
/// The file is a <c>servers:</c> map of server id to <c>url</c>, <c>secret</c>, <c>enabled</c> (true/false) or
/// <c>state</c> (enabled/cordoned/disabled), <c>load_multiplier</c>, <c>tag</c> and, ours, <c>capacity</c>. As in
/// Scalelite's <c>servers:sync</c>: the key is an id (<c>^[a-zA-Z0-9_.-]+$</c>) and a server the file adds gets it;
/// without <c>url</c> the key is the host (<c>https://KEY/bigbluebutton/api</c>); a server the file adds needs a
/// secret (one the pool has keeps its own when the entry leaves it out: the AppHost's file does that); without
/// <c>enabled</c> or <c>state</c> a server is enabled; <c>load</c>, <c>bbb_version</c> and <c>online</c> (what
/// <c>servers:yaml[verbose]</c> adds) are accepted and ignored, any other key is an error; the whole file is checked
/// before anything changes; in cordon mode a server the file lacks is removed when it has no meetings and cordoned
/// otherwise. An entry matches a server by id first, then by URL (so a server added under a generated id keeps it).
/// Planning is pure, so the dry run shows exactly what a real run would do.
/// </remarks>
public static class ServerSync
{
    /// <summary>The entry keys <see cref="Parse"/> applies: Scalelite's, and ours (<c>state</c>, <c>capacity</c>).</summary>
    private static readonly string[] AppliedKeys = ["url", "secret", "enabled", "state", "load_multiplier", "tag", "capacity"];

    /// <summary>What <c>servers:yaml[verbose]</c> adds and Scalelite's sync accepts without applying, so that its output reads back.</summary>
    private static readonly string[] IgnoredKeys = ["load", "bbb_version", "online"];

    /// <summary>Reads and checks the whole file; every error is reported at once, before anything is changed.</summary>
    /// <exception cref="FormatException">The file breaks one of the rules; the message lists every entry that does, one per line.</exception>
    public static IReadOnlyList<DesiredServer> Parse(string yaml)
    {
        var serversNode = ServersNode(yaml, "a 'servers:' map of server id to its settings");
        if (serversNode is null)
        {
            return [];
        }

        if (serversNode is not YamlMappingNode servers)
        {
            throw new FormatException("'servers:' must be a map of server id to its settings.");
        }

        var list = new List<DesiredServer>();
        var errors = new List<string>();
        foreach (var (keyNode, valueNode) in servers.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if (ParseEntry(key, valueNode, errors) is { } server)
            {
                list.Add(server);
            }
        }

        return errors.Count == 0 ? list : throw new FormatException(string.Join(Environment.NewLine, errors));
    }

    /// <summary>One entry, as Scalelite's <c>servers:sync</c> checks it (its messages too); null when it has errors.</summary>
    private static DesiredServer? ParseEntry(string key, YamlNode valueNode, List<string> errors)
    {
        var before = errors.Count;
        if (!Server.IsValidId(key))
        {
            // The key becomes the id of a server the file adds, so it follows the id rule (Scalelite's, and our column's length).
            errors.Add($"Server id={key} contains invalid characters (letters, digits, '_', '.' and '-' only, at most {Server.MaxIdLength})");
        }

        if (valueNode is not YamlMappingNode fields)
        {
            errors.Add($"Server id={key} has no secret");
            return null;
        }

        string? Field(string name) => fields.Children.TryGetValue(new YamlScalarNode(name), out var n) && n is YamlScalarNode s ? s.Value : null;

        var unknown = fields.Children.Keys.Select(k => (k as YamlScalarNode)?.Value ?? k.ToString())
            .Where(k => !AppliedKeys.Contains(k, StringComparer.Ordinal) && !IgnoredKeys.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            errors.Add($"Server id={key} has bad parameters: {string.Join(", ", unknown)} (known: {string.Join(", ", AppliedKeys.Concat(IgnoredKeys))})");
        }

        // An entry for a server the pool has may leave its secret out (it is kept); one the file adds needs it, which
        // Plan checks, still before any change.
        var secret = Field("secret");
        if (secret is not null && string.IsNullOrWhiteSpace(secret))
        {
            errors.Add($"Server id={key} has no secret");
        }

        var url = Field("url") ?? $"https://{key}/bigbluebutton/api";
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            errors.Add($"Server id={key} has invalid url={url}");
        }

        var state = Field("state");
        if (state is not null && NormalizeState(state) is null)
        {
            errors.Add($"Server id={key} has invalid state={state} (enabled, cordoned or disabled)");
        }

        if (state is null && Field("enabled") is { } enabled)
        {
            state = enabled.Trim().ToLowerInvariant() switch
            {
                "true" or "yes" or "on" => "enabled",
                "false" or "no" or "off" => "disabled",
                _ => null,
            };
            if (state is null)
            {
                errors.Add($"Server id={key} has invalid enabled={enabled} (true or false)");
            }
        }

        double? multiplier = null;
        if (Field("load_multiplier") is { } m)
        {
            if (double.TryParse(m, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v))
            {
                multiplier = v;
            }
            else
            {
                errors.Add($"Server id={key} has invalid load_multiplier={m}");
            }
        }

        int? capacity = null;
        if (Field("capacity") is { } c)
        {
            if (int.TryParse(c, out var v) && v >= 0)
            {
                capacity = v;
            }
            else
            {
                errors.Add($"Server id={key} has invalid capacity={c} (a whole number of users)");
            }
        }

        // Scalelite's default: a listed server takes meetings unless the file says otherwise.
        return errors.Count > before ? null
            : new DesiredServer(key, NormalizeUrl(url), secret, NormalizeState(state ?? "enabled"), multiplier, Field("tag"), fields.Children.ContainsKey(new YamlScalarNode("tag")), capacity);
    }

    /// <summary>
    /// The node under the top-level <c>servers:</c> key of a servers file (Scalelite's sync map and its addAll list
    /// alike), or null when it is empty.
    /// </summary>
    private static YamlNode? ServersNode(string yaml, string expected)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"Not valid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root
            || !root.Children.TryGetValue(new YamlScalarNode("servers"), out var node))
        {
            throw new FormatException($"The file must have {expected} at the top level.");
        }

        return node is YamlScalarNode { Value: null or "" or "~" } ? null : node;
    }

    public static IReadOnlyList<SyncStep> Plan(IReadOnlyList<DesiredServer> desired, IReadOnlyList<ServerView> current, SyncMode mode)
    {
        var steps = new List<SyncStep>();
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var want in desired)
        {
            var byId = current.FirstOrDefault(s => s.Id == want.Key);
            var server = byId ?? current.FirstOrDefault(s => NormalizeUrl(s.Url) == want.Url);
            if (server is null)
            {
                if (string.IsNullOrEmpty(want.Secret))
                {
                    // A server the file wants disabled that the pool does not have is as the file wants it.
                    if (want.State != "disabled")
                    {
                        steps.Add(new SyncStep("invalid", null, $"Server id={want.Key} has no secret (a server the file adds needs one)"));
                    }

                    continue;
                }

                steps.Add(new SyncStep("add", null, $"add {want.Key} ({want.Url}, {want.State ?? "disabled"})", want, want.State));
                continue;
            }

            matched.Add(server.Id);
            if (NormalizeUrl(server.Url) != want.Url)
            {
                if (mode == SyncMode.Force)
                {
                    steps.Add(new SyncStep("remove", server.Id, $"remove {server.Id} ({server.Url}): its URL changed to {want.Url}"));
                    steps.Add(new SyncStep("add", null, $"add {want.Key} ({want.Url}, {want.State ?? "disabled"})", want, want.State));
                }
                else
                {
                    steps.Add(new SyncStep("conflict", server.Id, $"skip {server.Id}: the file gives url {want.Url} but the server has {server.Url} (use --mode force to replace it)"));
                }

                continue;
            }

            var changes = new Dictionary<string, object?>();
            var described = new List<string>();
            if (want.Secret is { Length: > 0 } secret && secret != server.Secret)
            {
                changes["secret"] = secret;
                described.Add("secret");
            }

            if (want.LoadMultiplier is { } multiplier && Math.Abs(multiplier - server.LoadMultiplier) > 1e-9)
            {
                changes["loadMultiplier"] = multiplier;
                described.Add($"load_multiplier {server.LoadMultiplier} -> {multiplier}");
            }

            if (want.TagGiven && (want.Tag ?? string.Empty) != (server.Tag ?? string.Empty))
            {
                changes["tag"] = want.Tag ?? string.Empty;
                described.Add($"tag {server.Tag ?? "(none)"} -> {want.Tag ?? "(none)"}");
            }

            if (want.Capacity is { } capacity && capacity != server.Capacity)
            {
                changes["capacity"] = capacity;
                described.Add($"capacity {server.Capacity?.ToString() ?? "(none)"} -> {capacity}");
            }

            if (changes.Count > 0)
            {
                steps.Add(new SyncStep("update", server.Id, $"update {server.Id}: {string.Join(", ", described)}", Changes: changes));
            }

            if (want.State is { } state && state != server.State)
            {
                // Outside force mode a server that is to stop taking meetings drains: its meetings are not cut off.
                var target = mode != SyncMode.Force && state == "disabled" && server.State == "enabled" ? "cordoned" : state;
                steps.Add(new SyncStep("state", server.Id, $"{Verb(target)} {server.Id} ({server.State} -> {target}{(target != state ? ", disabled once drained" : string.Empty)})", State: target));
            }
        }

        foreach (var server in current.Where(s => !matched.Contains(s.Id)))
        {
            if (mode == SyncMode.Cordon && server.Meetings == 0)
            {
                steps.Add(new SyncStep("remove", server.Id, $"remove {server.Id} ({server.Url}): not in the file, and empty"));
            }
            else if (mode == SyncMode.Cordon && server.State == "enabled")
            {
                steps.Add(new SyncStep("state", server.Id, $"cordon {server.Id} ({server.Url}): not in the file; removed by a later sync once empty", State: "cordoned"));
            }
            else if (mode == SyncMode.Force)
            {
                steps.Add(new SyncStep("remove", server.Id, $"remove {server.Id} ({server.Url}): not in the file"));
            }
        }

        return steps;
    }

    /// <summary>The pool as Scalelite's <c>servers:yaml</c> prints it: a file <see cref="Parse"/> reads back.</summary>
    /// <param name="verbose">Also <c>state</c>, <c>load</c> (-1.0 when unknown), <c>bbb_version</c> and <c>online</c>, as <c>servers:yaml[verbose]</c>.</param>
    public static string Export(IEnumerable<ServerView> servers, bool verbose)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var s in servers)
        {
            var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["url"] = s.Url,
                ["secret"] = s.Secret,
                ["load_multiplier"] = s.LoadMultiplier,
                ["tag"] = s.Tag ?? string.Empty,
                ["enabled"] = s.State == "enabled",
            };
            if (verbose)
            {
                fields["state"] = s.State;
                fields["load"] = s.Load ?? -1.0;
                fields["bbb_version"] = s.BbbVersion ?? string.Empty;
                fields["online"] = s.Online;
            }

            map[s.Id] = fields;
        }

        var yaml = new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(new Dictionary<string, object?> { ["servers"] = map });
        return "---\n" + yaml;
    }

    /// <summary>Scalelite's <c>servers:addAll</c> file: a <c>servers:</c> list of <c>url</c> and <c>secret</c>.</summary>
    public static IReadOnlyList<(string Url, string Secret)> ParseList(string yaml)
    {
        const string expected = "a 'servers:' list of url and secret";
        if (ServersNode(yaml, expected) is not YamlSequenceNode list)
        {
            throw new FormatException($"The file must have {expected} at the top level.");
        }

        var servers = new List<(string, string)>();
        foreach (var item in list.Children)
        {
            string? Field(string name) => item is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(name), out var n) && n is YamlScalarNode s ? s.Value : null;
            servers.Add((Field("url") ?? throw new FormatException("A server has no url."), Field("secret") ?? throw new FormatException("A server has no secret.")));
        }

        return servers;
    }

    public static string? NormalizeState(string? state) => state?.Trim().ToLowerInvariant() switch
    {
        "enable" or "enabled" => "enabled",
        "cordon" or "cordoned" => "cordoned",
        "disable" or "disabled" => "disabled",
        _ => null,
    };

    /// <summary>As the server stores URLs: no trailing slash, <c>/bigbluebutton/api</c> added to a bare host.</summary>
    public static string NormalizeUrl(string url)
    {
        var trimmed = url.Trim().TrimEnd('/');
        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && uri.AbsolutePath is "" or "/" ? trimmed + "/bigbluebutton/api" : trimmed;
    }

    private static string Verb(string state) => state switch
    {
        "enabled" => "enable",
        "cordoned" => "cordon",
        _ => "disable",
    };
}
