using System.Diagnostics;
using System.Runtime.InteropServices;
using Scalelite.Core.Monitoring;

namespace Scalelite.RecordingSync.Monitoring;

/// <summary>How one directory answers: free space and inodes, and a small write that is synced and removed.</summary>
/// <remarks>
/// Synchronous on purpose: on a hung NFS mount these calls block in the kernel and no cancellation reaches them.
/// <see cref="VolumeProbe"/> runs each on a thread of its own under a timeout, and never starts a second probe of a
/// directory whose first one has not come back.
/// </remarks>
public static partial class DirectoryProbe
{
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
        var probe = Path.Combine(path, $".scalelite-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
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
