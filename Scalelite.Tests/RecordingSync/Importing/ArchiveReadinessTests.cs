using Microsoft.Extensions.Time.Testing;
using Scalelite.RecordingSync.Importing;

namespace Scalelite.Tests.RecordingSync.Importing;

public sealed class ArchiveReadinessTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void IsReady_OldFile_ReadyAtFirstLook()
    {
        var readiness = new ArchiveReadiness(_time, TimeSpan.FromSeconds(5));

        Assert.True(readiness.IsReady("a.tar", 100, _time.GetUtcNow().AddSeconds(-6)));
    }

    [Fact]
    public void IsReady_FreshFileStableAcrossTwoLooksApart_Ready()
    {
        var readiness = new ArchiveReadiness(_time, TimeSpan.FromSeconds(30));
        var modified = _time.GetUtcNow();

        Assert.False(readiness.IsReady("a.tar", 100, modified));
        Assert.False(readiness.IsReady("a.tar", 100, modified));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(readiness.IsReady("a.tar", 100, modified));
    }

    [Fact]
    public void IsReady_FileStillGrowing_NotReady()
    {
        var readiness = new ArchiveReadiness(_time, TimeSpan.FromSeconds(30));

        Assert.False(readiness.IsReady("a.tar", 100, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(readiness.IsReady("a.tar", 200, _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(readiness.IsReady("a.tar", 300, _time.GetUtcNow()));
    }
}
