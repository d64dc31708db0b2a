using Microsoft.Extensions.Time.Testing;
using Scalelite.RecordingSync.Importing;

namespace Scalelite.Tests.RecordingSync.Importing;

/// <summary>The claim's name alone: what it says (holder, time, archive), what is not a claim, and when one is abandoned.</summary>
public sealed class ArchiveClaimNameTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));

    [Fact]
    public void ClaimFileName_ParsedBack_GivesThisInstanceTheTimeAndTheArchive()
    {
        var claim = ArchiveClaim.ClaimFileName("meeting-1.tar.xz", _time.GetUtcNow());

        Assert.StartsWith(".claim.", claim, StringComparison.Ordinal);
        Assert.True(ArchiveClaim.TryParse(claim, out var claimedAt, out var instance, out var name));
        Assert.Equal(_time.GetUtcNow(), claimedAt);
        Assert.Equal(ArchiveClaim.Instance, instance);
        Assert.Equal("meeting-1.tar.xz", name);
    }

    [Fact]
    public void Instance_Always_HasNoDotThatWouldSplitTheName()
    {
        Assert.DoesNotContain('.', ArchiveClaim.Instance);
        Assert.NotEmpty(ArchiveClaim.Instance);
    }

    [Fact]
    public void TryParse_AnotherInstancesClaim_NamesThatInstance()
    {
        var at = _time.GetUtcNow().AddMinutes(-1);
        var claim = $".claim.{at.ToUnixTimeMilliseconds()}.other-host-42.recording.tar";

        Assert.True(ArchiveClaim.TryParse(claim, out var claimedAt, out var instance, out var name));
        Assert.Equal(at, claimedAt);
        Assert.Equal("other-host-42", instance);
        Assert.NotEqual(ArchiveClaim.Instance, instance);
        Assert.Equal("recording.tar", name);
    }

    [Theory]
    [InlineData("recording.tar")]                        // a new archive, not a claim
    [InlineData(".claim")]
    [InlineData(".claim.")]
    [InlineData(".claim.1767268800000")]                 // no holder, no archive
    [InlineData(".claim.1767268800000.host")]            // no archive
    [InlineData(".claim.1767268800000.host.")]           // empty archive name
    [InlineData(".claim.1767268800000..recording.tar")]  // empty holder
    [InlineData(".claim.soon.host.recording.tar")]       // time not a number
    [InlineData(".claim.-1767268800000.host.recording.tar")]
    [InlineData(".claim.+1767268800000.host.recording.tar")]
    [InlineData(".claim. 1767268800000.host.recording.tar")]
    [InlineData(".CLAIM.1767268800000.host.recording.tar")]
    [InlineData("claim.1767268800000.host.recording.tar")]
    public void TryParse_MalformedName_IsNotAClaim(string fileName)
    {
        Assert.False(ArchiveClaim.TryParse(fileName, out _, out var instance, out var name));
        Assert.Empty(instance);
        Assert.Empty(name);
    }

    [Fact]
    public void IsAbandoned_ClaimRenewedWithinTheTimeout_IsLive()
    {
        var claim = ArchiveClaim.ClaimFileName("recording.tar", _time.GetUtcNow());

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));

        Assert.False(ArchiveClaim.IsAbandoned(claim, _time.GetUtcNow(), Timeout));
    }

    [Fact]
    public void IsAbandoned_ClaimNotRenewedForTheTimeout_IsAbandoned()
    {
        var claim = ArchiveClaim.ClaimFileName("recording.tar", _time.GetUtcNow());

        _time.Advance(Timeout);

        Assert.True(ArchiveClaim.IsAbandoned(claim, _time.GetUtcNow(), Timeout));
    }

    [Fact]
    public void IsAbandoned_AnotherInstancesStaleClaim_IsAbandonedWhoeverHeldIt()
    {
        var claim = $".claim.{_time.GetUtcNow().ToUnixTimeMilliseconds()}.dead-host-7.recording.tar";

        _time.Advance(Timeout + TimeSpan.FromSeconds(1));

        Assert.True(ArchiveClaim.IsAbandoned(claim, _time.GetUtcNow(), Timeout));
    }

    [Fact]
    public void IsAbandoned_ClaimFromTheFuture_IsLive()
    {
        // Another host's clock may run ahead: its claim looks younger than it is, never abandoned early.
        var claim = ArchiveClaim.ClaimFileName("recording.tar", _time.GetUtcNow().AddMinutes(5));

        Assert.False(ArchiveClaim.IsAbandoned(claim, _time.GetUtcNow(), Timeout));
    }

    [Theory]
    [InlineData("recording.tar")]
    [InlineData(".claim.soon.host.recording.tar")]
    public void IsAbandoned_NotAClaim_IsNeverAbandoned(string fileName) =>
        Assert.False(ArchiveClaim.IsAbandoned(fileName, _time.GetUtcNow().AddYears(1), Timeout));

    [Fact]
    public void ClaimFileName_RenewedLater_IsANewNameForTheSameArchive()
    {
        var first = ArchiveClaim.ClaimFileName("recording.tar", _time.GetUtcNow());
        _time.Advance(TimeSpan.FromSeconds(1));
        var renewed = ArchiveClaim.ClaimFileName("recording.tar", _time.GetUtcNow());

        Assert.NotEqual(first, renewed);
        Assert.True(ArchiveClaim.TryParse(renewed, out var at, out _, out var name));
        Assert.Equal("recording.tar", name);
        Assert.Equal(_time.GetUtcNow(), at);
    }
}
