using System.Diagnostics;
using Scalelite.Core.Monitoring;
using Scalelite.RecordingSync.Monitoring;

namespace Scalelite.Tests.RecordingSync.Monitoring;

/// <summary>The directory probe's write, and the probe files a killed process leaves behind.</summary>
public sealed class DirectoryProbeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("probe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Probe_LeftoverOfAProcessThatIsGone_IsRemovedAndTheProbeLeavesNothing()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        var leftover = Path.Combine(_dir, $".scalelite-probe-{Environment.MachineName}-{gone.Id}-{Guid.NewGuid():N}");
        File.WriteAllText(leftover, "probe\n");
        var archive = Path.Combine(_dir, "kept.tar");
        File.WriteAllText(archive, "x");

        var report = DirectoryProbe.Probe("spool", _dir);

        Assert.Equal(DirectoryStatus.Ok, report.Status);
        Assert.Equal([archive], Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void IsLeftover_LiveProcessOrAnotherHost_IsKeptUntilAnHourOld()
    {
        var mine = $".scalelite-probe-{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var otherHost = $".scalelite-probe-other-host-1-{Guid.NewGuid():N}";

        Assert.False(DirectoryProbe.IsLeftover(mine, TimeSpan.FromSeconds(5)));
        Assert.False(DirectoryProbe.IsLeftover(otherHost, TimeSpan.FromMinutes(5)));
        Assert.True(DirectoryProbe.IsLeftover(otherHost, TimeSpan.FromHours(2)));
    }
}
