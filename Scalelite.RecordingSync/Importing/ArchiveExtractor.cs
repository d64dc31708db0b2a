using System.Formats.Tar;
using Scalelite.Core.Recordings;
using SharpCompress.Compressors.Xz;

namespace Scalelite.RecordingSync.Importing;

/// <summary>An archive that can never be imported as it is (retrying would not help): it is set aside with this reason.</summary>
public sealed class ArchiveRejectedException(string reason, Exception? inner = null) : Exception(reason, inner);

/// <summary>
/// Unpacks a recording archive into a private directory, refusing anything that could write outside it.
/// </summary>
/// <remarks>
/// Every entry is checked before a byte is written: only directories and regular files; no absolute names, no
/// <c>..</c> segment, and the resolved path must stay under the target; every file must lie under
/// <c>&lt;format&gt;/&lt;recordID&gt;/</c>. Links of any kind are refused rather than resolved, so no later write can
/// follow one out. Files are created with <see cref="FileMode.CreateNew"/>, so a duplicate entry is an error rather
/// than a silent overwrite. A tar that simply stops at an entry boundary would otherwise read as a shorter, valid
/// archive: the end-of-archive marker (a zero block) is required, checked on the last block the reader consumed.
/// xz carries its own integrity check, so a truncated <c>.tar.xz</c> fails in the decompressor.
/// </remarks>
public static class ArchiveExtractor
{
    private const int EndMarkerLength = 512;

    /// <summary>Extracts <paramref name="archivePath"/> into <paramref name="target"/> (which must not exist yet).</summary>
    /// <returns>The <c>(format, recordID)</c> directories found.</returns>
    public static async Task<IReadOnlyList<(string Format, string RecordId)>> ExtractAsync(string archivePath, string target, CancellationToken ct)
    {
        var root = Path.GetFullPath(target);
        Directory.CreateDirectory(root);
        var found = new SortedSet<(string, string)>();
        await using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Stream source = archivePath.EndsWith(".xz", StringComparison.Ordinal) ? new XZStream(file) : file;
        await using var tail = new TailStream(source, EndMarkerLength);
        try
        {
            await using var reader = new TarReader(tail, leaveOpen: true);
            while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
                {
                    continue;
                }

                var relative = CheckName(entry.Name, entry.EntryType);
                var segments = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
                var path = Path.GetFullPath(Path.Combine(root, relative));
                if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new ArchiveRejectedException($"entry '{entry.Name}' resolves outside the archive's directory");
                }

                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        Directory.CreateDirectory(path);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        if (segments.Length < 3)
                        {
                            throw new ArchiveRejectedException($"file '{entry.Name}' is not inside a <format>/<recordID>/ directory");
                        }

                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        await WriteFileAsync(entry, path, ct);
                        break;
                    default:
                        throw new ArchiveRejectedException($"entry '{entry.Name}' is a {entry.EntryType}; only regular files and directories are accepted");
                }

                if (segments.Length >= 2)
                {
                    found.Add((segments[0], segments[1]));
                }
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException or InvalidOperationException
            or SharpCompress.Common.ArchiveException)
        {
            throw new ArchiveRejectedException($"the archive is truncated or corrupt ({e.Message})", e);
        }

        if (!tail.EndsWithZeros())
        {
            throw new ArchiveRejectedException("the archive is truncated (no end-of-archive marker)");
        }

        if (found.Count == 0)
        {
            throw new ArchiveRejectedException("the archive holds no <format>/<recordID> directory");
        }

        return [.. found];
    }

    private static async Task WriteFileAsync(TarEntry entry, string path, CancellationToken ct)
    {
        if (File.Exists(path) || Directory.Exists(path))
        {
            throw new ArchiveRejectedException($"entry '{entry.Name}' appears twice");
        }

        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        if (entry.DataStream is { } data)
        {
            await data.CopyToAsync(output, 1 << 16, ct);
        }

        if (output.Length != entry.Length)
        {
            throw new ArchiveRejectedException($"the archive is truncated inside '{entry.Name}'");
        }
    }

    /// <summary>The entry's name as a relative path with '/' separators, or a rejection.</summary>
    internal static string CheckName(string name, TarEntryType type)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArchiveRejectedException($"entry '{name}' has an invalid name");
        }

        if (name[0] == '/')
        {
            throw new ArchiveRejectedException($"entry '{name}' is an absolute path");
        }

        var relative = name;
        while (relative.StartsWith("./", StringComparison.Ordinal))
        {
            relative = relative[2..];
        }

        var segments = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s == ".."))
        {
            throw new ArchiveRejectedException($"entry '{name}' climbs out with '..'");
        }

        if (segments.Length == 0 || segments.Any(s => s == "."))
        {
            if (type == TarEntryType.Directory && segments.Length == 0)
            {
                return ".";
            }

            throw new ArchiveRejectedException($"entry '{name}' has an invalid name");
        }

        if (!RecordingFiles.IsSafeName(segments[0]) || (segments.Length > 1 && !RecordingFiles.IsSafeName(segments[1])))
        {
            throw new ArchiveRejectedException($"entry '{name}' does not start with a valid <format>/<recordID>");
        }

        return string.Join('/', segments);
    }

    /// <summary>A read-only pass-through that remembers the last bytes read, to check the end-of-archive marker.</summary>
    private sealed class TailStream(Stream inner, int keep) : Stream
    {
        private readonly byte[] _tail = new byte[keep];
        private long _total;

        public bool EndsWithZeros() => _total >= keep && Array.TrueForAll(_tail, b => b == 0);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _total; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Remember(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override int Read(Span<byte> buffer) => Remember(buffer[..inner.Read(buffer)]);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            return Remember(buffer.Span[..n]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Remember(ReadOnlySpan<byte> read)
        {
            if (read.Length >= _tail.Length)
            {
                read[^_tail.Length..].CopyTo(_tail);
            }
            else if (read.Length > 0)
            {
                Array.Copy(_tail, read.Length, _tail, 0, _tail.Length - read.Length);
                read.CopyTo(_tail.AsSpan(_tail.Length - read.Length));
            }

            _total += read.Length;
            return read.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
