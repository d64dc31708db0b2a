using Scalelite.Core.FromScalelite;

namespace Scalelite.Tests.Core.FromScalelite;

public sealed class SyncRuleTests
{
    [Theory]
    [InlineData(null, "s", null, SyncDecision.Add)]
    [InlineData("s", "s", "s", SyncDecision.Unchanged)]
    [InlineData(null, "s", "s", SyncDecision.Record)]
    [InlineData("old", "s", "s", SyncDecision.Record)]
    [InlineData("old", "new", "old", SyncDecision.Update)]
    [InlineData(null, "s", "ours", SyncDecision.Update)]
    [InlineData("s", "s", "ours", SyncDecision.KeepOurs)]
    [InlineData("old", "new", "ours", SyncDecision.Conflict)]
    [InlineData("s", "s", null, SyncDecision.KeepOurs)]
    [InlineData("old", "new", null, SyncDecision.Conflict)]
    public void Decide_LedgerSourceAndOurs_PicksTheSideThatChanged(string? ledger, string source, string? ours, SyncDecision expected) =>
        Assert.Equal(expected, SyncRule.Decide(ledger, source, ours));
}
