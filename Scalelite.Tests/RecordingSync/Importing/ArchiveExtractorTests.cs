using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using Scalelite.RecordingSync.Importing;
using Scalelite.Tests.Core.Recordings;

namespace Scalelite.Tests.RecordingSync.Importing;

public sealed class ArchiveExtractorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("extract-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Target => Path.Combine(_root, "target");

    [Fact]
    public async Task ExtractAsync_ValidArchive_ReturnsFormatsAndWritesFiles()
    {
        var archive = Path.Combine(_root, "r1.tar");
        TestArchives.WriteRecording(archive, "r1");

        var found = await ArchiveExtractor.ExtractAsync(archive, Target, CancellationToken.None);

        Assert.Equal([("presentation", "r1"), ("video", "r1")], found);
        Assert.Equal(TestArchives.FilesPerFormat.Order(StringComparer.Ordinal), TestArchives.FilesUnder(Path.Combine(Target, "video", "r1")));
    }

    [Fact]
    public async Task ExtractAsync_XzArchive_Extracts()
    {
        var archive = Path.Combine(_root, "r1.tar");
        TestArchives.WriteRecording(archive, "r1");
        using (var xz = Process.Start(new ProcessStartInfo("xz", ["-z", "-k", archive]))!)
        {
            await xz.WaitForExitAsync();
            Assert.Equal(0, xz.ExitCode);
        }

        var found = await ArchiveExtractor.ExtractAsync(archive + ".xz", Target, CancellationToken.None);

        Assert.Equal(2, found.Count);
        Assert.Equal(4096, new FileInfo(Path.Combine(Target, "presentation", "r1", "media.bin")).Length);
    }

    [Theory]
    [InlineData("presentation/r1/../../../escaped.txt", "'..'")]
    [InlineData("../escaped.txt", "'..'")]
    [InlineData("/tmp/escaped.txt", "absolute")]
    [InlineData("escaped.txt", "<format>/<recordID>")]
    [InlineData("presentation/.hidden/x", "valid <format>/<recordID>")]
    public async Task ExtractAsync_BadName_RejectsAndWritesNothingOutside(string name, string reasonPart)
    {
        var archive = Path.Combine(_root, "bad.tar");
        TestArchives.Write(archive, [(name, Encoding.UTF8.GetBytes("x"))]);

        var e = await Assert.ThrowsAsync<ArchiveRejectedException>(() => ArchiveExtractor.ExtractAsync(archive, Target, CancellationToken.None));

        Assert.Contains(reasonPart, e.Message, StringComparison.Ordinal);
        Assert.Equal([archive, Target], Directory.EnumerateFileSystemEntries(_root).Order(StringComparer.Ordinal));
        Assert.Empty(TestArchives.FilesUnder(Target));
        Assert.False(File.Exists("/tmp/escaped.txt"));
    }

    [Theory]
    [MemberData(nameof(UnsafeNames.SegmentLabels), MemberType = typeof(UnsafeNames))]
    public async Task ExtractAsync_UnsafeFormatOrRecordId_RejectsAndWritesNothing(string label)
    {
        var name = UnsafeNames.All[label];
        foreach (var entry in new[] { $"{name}/r1/metadata.xml", $"presentation/{name}/metadata.xml" })
        {
            var archive = Path.Combine(_root, "bad.tar");
            TestArchives.Write(archive, [(entry, Encoding.UTF8.GetBytes("x"))]);

            await Assert.ThrowsAsync<ArchiveRejectedException>(() => ArchiveExtractor.ExtractAsync(archive, Target, CancellationToken.None));

            Assert.Empty(TestArchives.FilesUnder(Target));
        }
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    public async Task ExtractAsync_Link_Rejected(TarEntryType type)
    {
        var archive = Path.Combine(_root, "link.tar");
        TestArchives.Write(archive, [("presentation/r1/", null)], tar =>
            tar.WriteEntry(new PaxTarEntry(type, "presentation/r1/passwd") { LinkName = "/etc/passwd" }));

        var e = await Assert.ThrowsAsync<ArchiveRejectedException>(() => ArchiveExtractor.ExtractAsync(archive, Target, CancellationToken.None));

        Assert.Contains("only regular files and directories", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Target, "presentation", "r1", "passwd")));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(-1024)]
    public async Task ExtractAsync_TruncatedArchive_Rejected(double keep)
    {
        var archive = Path.Combine(_root, "r1.tar");
        TestArchives.WriteRecording(archive, "r1", mediaBytes: 8192);
        var length = new FileInfo(archive).Length;
        // A fraction cuts inside an entry; a negative count cuts exactly the end-of-archive marker off.
        var cut = keep > 0 ? (long)(length * keep) : length + (long)keep;
        using (var file = new FileStream(archive, FileMode.Open))
        {
            file.SetLength(cut);
        }

        var e = await Assert.ThrowsAsync<ArchiveRejectedException>(() => ArchiveExtractor.ExtractAsync(archive, Target, CancellationToken.None));

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }
}
