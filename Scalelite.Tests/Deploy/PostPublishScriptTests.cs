using System.Diagnostics;
using Scalelite.RecordingSync.Importing;
using Scalelite.Tests.RecordingSync;

namespace Scalelite.Tests.Deploy;

/// <summary>The BBB node's post-publish hooks (shell and Ruby) produce archives the importer accepts, never partial ones.</summary>
public sealed class PostPublishScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("postpublish-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Script(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Scalelite.sln")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir!.FullName, "deploy", "bbb-node", name);
    }

    private async Task<(int Code, string Error)> RunAsync(string interpreter, string script, params string[] args)
    {
        var start = new ProcessStartInfo(interpreter) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Script(script));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["SCALELITE_SPOOL_DIR"] = Path.Combine(_root, "spool");
        start.Environment["BBB_PUBLISHED_DIR"] = Path.Combine(_root, "published");
        start.Environment["BBB_UNPUBLISHED_DIR"] = Path.Combine(_root, "unpublished");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, await error);
    }

    private void PublishOnNode(string recordId)
    {
        Directory.CreateDirectory(Path.Combine(_root, "spool"));
        foreach (var (tree, format) in new[] { ("published", "presentation"), ("unpublished", "video") })
        {
            var dir = Path.Combine(_root, tree, format, recordId);
            Directory.CreateDirectory(Path.Combine(dir, "thumbnails"));
            File.WriteAllText(Path.Combine(dir, "metadata.xml"), TestArchives.MetadataXml(recordId, format));
            File.WriteAllBytes(Path.Combine(dir, "thumbnails", "thumb-1.png"), TestArchives.Bytes(100));
        }
    }

    [SkippableTheory]
    [InlineData("bash", "scalelite-post-publish.sh")]
    [InlineData("ruby", "scalelite-post-publish.rb")]
    public async Task Hook_AllFormats_WritesOneCompleteArchiveUnderItsFinalNameOnly(string interpreter, string script)
    {
        Skip.If(interpreter == "ruby" && !File.Exists("/usr/bin/ruby"), "ruby is not installed");
        PublishOnNode("r-hook");

        var (code, error) = await RunAsync(interpreter, script, "-m", "r-hook");

        Assert.True(code == 0, error);
        Assert.Equal(["r-hook.tar"], Directory.EnumerateFileSystemEntries(Path.Combine(_root, "spool")).Select(Path.GetFileName));
        var found = await ArchiveExtractor.ExtractAsync(Path.Combine(_root, "spool", "r-hook.tar"), Path.Combine(_root, "x"), CancellationToken.None);
        Assert.Equal([("presentation", "r-hook"), ("video", "r-hook")], found);
    }

    [SkippableTheory]
    [InlineData("bash", "scalelite-post-publish.sh")]
    [InlineData("ruby", "scalelite-post-publish.rb")]
    public async Task Hook_OneFormat_NamesArchiveAfterIt(string interpreter, string script)
    {
        Skip.If(interpreter == "ruby" && !File.Exists("/usr/bin/ruby"), "ruby is not installed");
        PublishOnNode("r-one");

        var (code, error) = await RunAsync(interpreter, script, "-m", "r-one", "-f", "video");

        Assert.True(code == 0, error);
        var found = await ArchiveExtractor.ExtractAsync(Path.Combine(_root, "spool", "r-one.video.tar"), Path.Combine(_root, "x"), CancellationToken.None);
        Assert.Equal([("video", "r-one")], found);
    }

    [SkippableTheory]
    [InlineData("bash", "scalelite-post-publish.sh")]
    [InlineData("ruby", "scalelite-post-publish.rb")]
    public async Task Hook_UnknownOrUnsafeRecording_FailsAndLeavesSpoolEmpty(string interpreter, string script)
    {
        Skip.If(interpreter == "ruby" && !File.Exists("/usr/bin/ruby"), "ruby is not installed");
        Directory.CreateDirectory(Path.Combine(_root, "spool"));

        Assert.NotEqual(0, (await RunAsync(interpreter, script, "-m", "missing")).Code);
        Assert.NotEqual(0, (await RunAsync(interpreter, script, "-m", "../etc")).Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "spool")));
    }
}
