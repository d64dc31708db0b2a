using System.Diagnostics;
using System.Runtime.InteropServices;
using Scalelite.Core.Monitoring;

namespace Scalelite.RecordingSync.Monitoring;

/// <summary>How one directory answers: free space and inodes, and a small write that is synced and removed.</summary>
/// <remarks>
/// <para>Synchronous on purpose: on a hung NFS mount these calls block in the kernel and no cancellation reaches them.
/// <see cref="VolumeProbe"/> runs each on a thread of its own under a timeout, and never starts a second probe of a
/// directory whose first one has not come back.</para>
/// <para>A process killed between writing its probe file and removing it leaves the file behind, in the spool or the
/// work directory, where nothing else would ever remove it. Each probe therefore first removes the probe files of
/// processes that are gone: those named for this host whose process no longer runs, and any older than an hour
/// (another host's; no probe takes that long, and removing a live probe's file only makes its own removal a no-op).</para>
/// </remarks>
public static partial class DirectoryProbe
{
    private const string ProbePrefix = ".scalelite-probe-";
    private static readonly TimeSpan Abandoned = TimeSpan.FromHours(1);

    public static DirectoryReport Probe(string name, string path)
    {
        if (!Directory.Exists(path))
        {
            return new DirectoryReport(name, path, DirectoryStatus.Missing, null, null, null, null, null, null);
        }

        double? freePercent = null, inodesPercent = null;
        long? freeBytes = null, freeInodes = null;
        if (StatVfs(path) is { } fs)
        {
            freeBytes = (long)(fs.f_bavail * fs.f_frsize);
            freeInodes = (long)fs.f_favail;
            freePercent = fs.f_blocks > 0 ? 100.0 * fs.f_bavail / fs.f_blocks : null;
            inodesPercent = fs.f_files > 0 ? 100.0 * fs.f_favail / fs.f_files : null;
        }

        var started = Stopwatch.GetTimestamp();
        var probe = Path.Combine(path, $"{ProbePrefix}{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            RemoveLeftovers(path);
            using (var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                file.Write("probe\n"u8);
                file.Flush(flushToDisk: true);
            }

            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new DirectoryReport(name, path, DirectoryStatus.NotWritable, e.Message, freePercent, inodesPercent, freeBytes, freeInodes,
                Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return new DirectoryReport(name, path, DirectoryStatus.Ok, null, freePercent, inodesPercent, freeBytes, freeInodes,
            Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static void RemoveLeftovers(string path)
    {
        foreach (var file in new DirectoryInfo(path).EnumerateFiles(ProbePrefix + "*"))
        {
            if (IsLeftover(file.Name, DateTime.UtcNow - file.LastWriteTimeUtc))
            {
                try
                {
                    file.Delete();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another instance removed it first, or it cannot be removed: the write below tells which.
                }
            }
        }
    }

    /// <summary>Whether a probe file (named <c>.scalelite-probe-HOST-PID-GUID</c>) was left by a process that is gone.</summary>
    internal static bool IsLeftover(string fileName, TimeSpan age)
    {
        if (age > Abandoned)
        {
            return true;
        }

        var rest = fileName[ProbePrefix.Length..];
        var guidAt = rest.LastIndexOf('-');
        var pidAt = guidAt > 0 ? rest.LastIndexOf('-', guidAt - 1) : -1;
        if (pidAt <= 0 || !int.TryParse(rest.AsSpan(pidAt + 1, guidAt - pidAt - 1), out var pid)
            || !string.Equals(rest[..pidAt], Environment.MachineName, StringComparison.Ordinal) || pid == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    private static StatVfsResult? StatVfs(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return statvfs(path, out var result) == 0 ? result : null;
    }

    // struct statvfs of glibc on 64-bit Linux: eleven unsigned longs, then six ints of padding.
    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfsResult
    {
#pragma warning disable IDE1006, CS0649 // the C names, filled in by the call, for the reader who compares with statvfs(3)
        public ulong f_bsize;
        public ulong f_frsize;
        public ulong f_blocks;
        public ulong f_bfree;
        public ulong f_bavail;
        public ulong f_files;
        public ulong f_ffree;
        public ulong f_favail;
        public ulong f_fsid;
        public ulong f_flag;
        public ulong f_namemax;
        public long spare0;
        public long spare1;
        public long spare2;
#pragma warning restore IDE1006, CS0649
    }

    [LibraryImport("libc", EntryPoint = "statvfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int statvfs(string path, out StatVfsResult buffer);
}
