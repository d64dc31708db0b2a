using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Placement;

namespace Scalelite.Tests.Core.Pool.Placement;

public class PlacementPolicyTests
{
    private static ServerSnapshot S(string id, string? tag = null, ServerState state = ServerState.Enabled, bool online = true, double? load = 0) =>
        new(id, $"http://{id}/bigbluebutton/api", "s", tag, state, online, 1, load);

    private static PlacementCandidates Pick(IReadOnlyList<ServerSnapshot> servers, string? tag = null, string key = "m") =>
        new LeastLoadedPlacementPolicy().Candidates(servers, new PlacementRequest(key, TagRequirement.Parse(tag)));

    [Fact]
    public void Candidates_SkipOfflineDisabledCordonedAndUnknownLoad()
    {
        var result = Pick([S("a"), S("b", online: false), S("c", state: ServerState.Disabled), S("d", state: ServerState.Cordoned), S("e", load: null)]);
        Assert.Equal(["a"], result.Servers.Select(s => s.Id));
    }

    [Fact]
    public void Candidates_NoTag_UseOnlyUntaggedServers()
    {
        var result = Pick([S("a", tag: "gpu"), S("b")]);
        Assert.Equal(["b"], result.Servers.Select(s => s.Id));
    }

    [Fact]
    public void Candidates_OptionalTag_PrefersTagged_FallsBackToUntagged()
    {
        Assert.Equal(["a"], Pick([S("a", tag: "gpu"), S("b")], "gpu").Servers.Select(s => s.Id));
        Assert.Equal(["b"], Pick([S("a", tag: "gpu"), S("b")], "other").Servers.Select(s => s.Id));
        Assert.Equal(["a", "c"], Pick([S("a", tag: "x"), S("b"), S("c", tag: "y")], "x;y").Servers.Select(s => s.Id).Order());
    }

    [Fact]
    public void Candidates_RequiredTagMissing_ReportsTheTag()
    {
        var result = Pick([S("a", tag: "gpu"), S("b")], "other!");
        Assert.Empty(result.Servers);
        Assert.Equal("other", result.MissingTag);
    }

    [Fact]
    public void Candidates_TagNone_IsTheTagOfUntaggedServers_NoneBangRequiresOneAsScalelite()
    {
        Assert.Equal(["b"], Pick([S("a", tag: "gpu"), S("b")], "none").Servers.Select(s => s.Id));
        Assert.Equal(["b"], Pick([S("a", tag: "gpu"), S("b")], "none!").Servers.Select(s => s.Id));
        Assert.Equal(["a", "b"], Pick([S("a", tag: "gpu"), S("b")], "gpu;none").Servers.Select(s => s.Id).Order());

        var nowhere = Pick([S("a", tag: "gpu")], "none!");
        Assert.Empty(nowhere.Servers);
        Assert.Equal("none", nowhere.MissingTag);
    }

    [Fact]
    public void Candidates_TieOrder_SpreadsOverServersByMeetingKey()
    {
        var servers = Enumerable.Range(0, 10).Select(i => S($"s{i}")).ToList();
        var firsts = Enumerable.Range(0, 200).Select(i => Pick(servers, key: $"meeting-{i}").Servers[0].Id).Distinct().Count();
        Assert.True(firsts >= 8, $"only {firsts} distinct first choices");
        Assert.Equal(Pick(servers, key: "same").Servers[0].Id, Pick(servers, key: "same").Servers[0].Id);
    }

    [Theory]
    [InlineData(null, new string[0], false)]
    [InlineData("", new string[0], false)]
    [InlineData("a", new[] { "a" }, false)]
    [InlineData("a;b!", new[] { "a", "b" }, true)]
    [InlineData(" a ; ;b ", new[] { "a", "b" }, false)]
    public void TagRequirement_Parse(string? value, string[] tags, bool required)
    {
        var parsed = TagRequirement.Parse(value);
        Assert.Equal(tags, parsed.Tags);
        Assert.Equal(required, parsed.Required);
    }
}
