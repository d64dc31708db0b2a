using Microsoft.Extensions.Options;
using Scalelite.Core.Recordings;

namespace Scalelite.Tests.Core.Recordings;

public sealed class RecordingFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("recording-files-").FullName;
    private readonly List<string> _elsewhere = [];

    public RecordingFilesTests()
    {
        Files = new RecordingFiles(Options.Create(new RecordingOptions
        {
            PublishDir = Path.Combine(_root, "published"),
            UnpublishDir = Path.Combine(_root, "unpublished"),
            WorkDir = Path.Combine(_root, "work"),
        }));
    }

    private RecordingFiles Files { get; }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        foreach (var dir in _elsewhere.Where(Directory.Exists))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(UnsafeNames.Labels), MemberType = typeof(UnsafeNames))]
    public void IsSafeName_UnsafeName_Refused(string label) =>
        Assert.False(RecordingFiles.IsSafeName(UnsafeNames.All[label]));

    [Theory]
    [InlineData("presentation")]
    [InlineData("screenshare")]
    [InlineData("6e35e3b2778883f5db637d7a5dba0a427f692e91-1379965122822")]
    [InlineData("thumb-1.png")]
    [InlineData("captions_en-US.vtt")]
    [InlineData("a..b")]
    public void IsSafeName_PlainName_Accepted(string name) =>
        Assert.True(RecordingFiles.IsSafeName(name));

    [Fact]
    public void IsSafeName_Null_Refused() => Assert.False(RecordingFiles.IsSafeName(null));

    [Fact]
    public void IsSafeName_LongestAllowed_Accepted() =>
        Assert.True(RecordingFiles.IsSafeName(new string('a', RecordingFiles.MaxNameLength)));

    [Theory]
    [MemberData(nameof(UnsafeNames.SegmentLabels), MemberType = typeof(UnsafeNames))]
    public void IsSafeRelativePath_UnsafeSegment_Refused(string label)
    {
        var name = UnsafeNames.All[label];

        Assert.False(RecordingFiles.IsSafeRelativePath($"presentation/{name}/slide-1.png"));
        Assert.False(RecordingFiles.IsSafeRelativePath($"{name}/slide-1.png"));
        Assert.False(RecordingFiles.IsSafeRelativePath($"slides/{name}"));
        Assert.Throws<ArgumentException>(() => RecordingFiles.WebPath("podcast", "r1", $"slides/{name}"));
    }

    [Fact]
    public void IsSafeRelativePath_Nul_Refused() => Assert.False(RecordingFiles.IsSafeRelativePath("slides/a\0b.svg"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/audio.ogg")]
    [InlineData("audio.ogg/")]
    [InlineData("a//audio.ogg")]
    [InlineData("a/../../audio.ogg")]
    public void IsSafeRelativePath_MalformedPath_Refused(string? path) =>
        Assert.False(RecordingFiles.IsSafeRelativePath(path));

    [Theory]
    [InlineData("audio.ogg")]
    [InlineData("presentation/d2d9/thumbnails/thumb-1.png")]
    public void IsSafeRelativePath_PlainPath_Accepted(string path) =>
        Assert.True(RecordingFiles.IsSafeRelativePath(path));

    [Fact]
    public void IsSafeRelativePath_LongerThanAPath_Refused() =>
        Assert.False(RecordingFiles.IsSafeRelativePath(string.Join('/', Enumerable.Repeat(new string('a', 200), 21))));

    [Theory]
    [MemberData(nameof(UnsafeNames.Labels), MemberType = typeof(UnsafeNames))]
    public void FormatDirectory_UnsafeFormatOrRecordId_Throws(string label)
    {
        var name = UnsafeNames.All[label];

        Assert.Throws<ArgumentException>(() => Files.FormatDirectory(true, name, "r1"));
        Assert.Throws<ArgumentException>(() => Files.FormatDirectory(false, "presentation", name));
        Assert.Throws<ArgumentException>(() => Files.CaptionsDirectory(name));
        Assert.Throws<ArgumentException>(() => RecordingFiles.WebPath(name, "r1"));
        Assert.Throws<ArgumentException>(() => RecordingFiles.WebPath("podcast", name, "audio.ogg"));
    }

    [Fact]
    public void FormatDirectory_PlainNames_UnderTheirTree()
    {
        Assert.Equal(Path.Combine(_root, "published", "presentation", "r1"), Files.FormatDirectory(true, "presentation", "r1"));
        Assert.Equal(Path.Combine(_root, "unpublished", "video", "r1"), Files.FormatDirectory(false, "video", "r1"));
        Assert.Equal(Path.Combine(_root, "published", "captions", "r1"), Files.CaptionsDirectory("r1"));
        Assert.Equal("/podcast/r1/audio.ogg", RecordingFiles.WebPath("podcast", "r1", "audio.ogg"));
    }

    [Fact]
    public void Move_ToUnpublishedAndBack_WholeTreeMovesAndRepeatIsHarmless()
    {
        var published = Files.FormatDirectory(true, "presentation", "r1");
        WriteTree(published, "v1");

        Files.Move("presentation", "r1", toPublished: false);
        Files.Move("presentation", "r1", toPublished: false);

        Assert.False(Directory.Exists(published));
        Assert.Equal(TreeOf("v1"), ReadTree(Files.FormatDirectory(false, "presentation", "r1")));
        Files.Move("presentation", "r1", toPublished: true);
        Assert.Equal(TreeOf("v1"), ReadTree(published));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Move_BothCopiesPresent_SourceReplacesTarget()
    {
        // As after a move across devices that was interrupted after its rename onto the target: the source is whole.
        WriteTree(Files.FormatDirectory(false, "video", "r1"), "source");
        WriteTree(Files.FormatDirectory(true, "video", "r1"), "stale");

        Files.Move("video", "r1", toPublished: true);

        Assert.Equal(TreeOf("source"), ReadTree(Files.FormatDirectory(true, "video", "r1")));
        Assert.False(Directory.Exists(Files.FormatDirectory(false, "video", "r1")));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Place_EarlierCopyInEitherTree_ReplacedAndOtherTreeCleared()
    {
        WriteTree(Files.FormatDirectory(true, "presentation", "r1"), "old-published");
        WriteTree(Files.FormatDirectory(false, "presentation", "r1"), "old-unpublished");
        var work = Files.NewWorkDirectory("r1.tar");
        var staged = Path.Combine(work, "presentation", "r1");
        WriteTree(staged, "new");

        Files.Place(staged, published: true, "presentation", "r1");
        RecordingFiles.DeleteLeftover(work);

        Assert.Equal(TreeOf("new"), ReadTree(Files.FormatDirectory(true, "presentation", "r1")));
        Assert.False(Directory.Exists(Files.FormatDirectory(false, "presentation", "r1")));
        Assert.False(Directory.Exists(staged));
        Assert.Empty(Leftovers());
    }

    [SkippableFact]
    public void MoveDirectory_AcrossDevices_CopiedWholeThenSourceRemoved()
    {
        var source = Path.Combine(OtherDevice(), "presentation", "r1");
        WriteTree(source, "new");
        var target = Files.FormatDirectory(true, "presentation", "r1");
        WriteTree(target, "old");

        RecordingFiles.MoveDirectory(source, target);

        Assert.Equal(TreeOf("new"), ReadTree(target));
        Assert.False(Directory.Exists(source));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Delete_BothTreesAndCaptions_RemovedWithoutLeftovers()
    {
        WriteTree(Files.FormatDirectory(true, "podcast", "r1"), "a");
        WriteTree(Files.FormatDirectory(false, "podcast", "r1"), "b");
        WriteTree(Files.CaptionsDirectory("r1"), "c");

        Files.Delete("podcast", "r1");
        Files.DeleteCaptions("r1");

        Assert.False(Directory.Exists(Files.FormatDirectory(true, "podcast", "r1")));
        Assert.False(Directory.Exists(Files.FormatDirectory(false, "podcast", "r1")));
        Assert.False(Directory.Exists(Files.CaptionsDirectory("r1")));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void SweepLeftovers_InterruptedMovesAndWork_RemovedAndRecordingsKept()
    {
        var kept = Files.FormatDirectory(true, "presentation", "r1");
        WriteTree(kept, "kept");
        var format = Path.GetDirectoryName(kept)!;
        WriteTree(Path.Combine(format, ".r1.incoming.0123"), "half");
        WriteTree(Path.Combine(Files.UnpublishDir, "video", ".r2.replaced.4567"), "old");
        WriteTree(Files.NewWorkDirectory("r3.tar"), "work");
        WriteTree(Path.Combine(format, ".operator-notes"), "other");

        Files.SweepLeftovers();

        Assert.Equal(TreeOf("kept"), ReadTree(kept));
        Assert.Equal([Path.Combine(format, ".operator-notes")], Leftovers());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Files.WorkDir));
    }

    [Fact]
    public async Task SaveCaptionAsync_Twice_LastContentWithoutTemporaryFiles()
    {
        await Files.SaveCaptionAsync("r1", "captions_en.vtt", new MemoryStream("WEBVTT\n1"u8.ToArray()), CancellationToken.None);
        await Files.SaveCaptionAsync("r1", "captions_en.vtt", new MemoryStream("WEBVTT\n2"u8.ToArray()), CancellationToken.None);

        Assert.Equal(["captions_en.vtt"], Directory.EnumerateFiles(Files.CaptionsDirectory("r1")).Select(Path.GetFileName));
        Assert.Equal("WEBVTT\n2", await File.ReadAllTextAsync(Path.Combine(Files.CaptionsDirectory("r1"), "captions_en.vtt")));
    }

    /// <summary>A directory on another file system than the volume, or a skip when the machine has none (/dev/shm is tmpfs on Linux).</summary>
    private string OtherDevice()
    {
        Skip.IfNot(Directory.Exists("/dev/shm"), "no second file system to move across");
        var dir = Path.Combine("/dev/shm", "recording-files-" + Guid.NewGuid().ToString("N"));
        _elsewhere.Add(dir);
        var probe = Path.Combine(dir, "probe");
        Directory.CreateDirectory(probe);
        try
        {
            Directory.Move(probe, Path.Combine(_root, "probe"));
            Skip.If(true, "/dev/shm is on the same file system as the temporary directory");
        }
        catch (IOException)
        {
            // The rename failed: another device, as wanted.
        }

        return dir;
    }

    private static Dictionary<string, string> TreeOf(string content) => new(StringComparer.Ordinal)
    {
        ["metadata.xml"] = content,
        [Path.Combine("slides", "slide-1.svg")] = content + "-slide",
    };

    private static void WriteTree(string dir, string content)
    {
        foreach (var (path, text) in TreeOf(content))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, path))!);
            File.WriteAllText(Path.Combine(dir, path), text);
        }
    }

    private static Dictionary<string, string> ReadTree(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllText, StringComparer.Ordinal);

    /// <summary>Dot-named directories anywhere on the volume (in-flight or set-aside copies).</summary>
    private List<string> Leftovers() =>
        [.. new[] { Files.PublishDir, Files.UnpublishDir, Files.WorkDir }.Where(Directory.Exists)
            .SelectMany(r => Directory.EnumerateDirectories(r, ".*", SearchOption.AllDirectories))];
}
