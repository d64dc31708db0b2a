using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalelite.LocalServers;
using Scalelite.Core;
using Scalelite.Core.Persistence;
using Scalelite.RecordingSync;
using Scalelite.RecordingSync.Importing;

// Import throughput of RecordingSync against plain `tar -xf` of the same archives, measured in the same run,
// interleaved round by round (the order flips every round), reporting medians and their ratio.
var archives = Arg("--archives", 8);
var megabytes = Arg("--mb", 24);
var rounds = Arg("--rounds", 5);
var root = Path.Combine(Path.GetTempPath(), $"import-bench-{Environment.ProcessId}");
Directory.CreateDirectory(root);
var source = Path.Combine(root, "source");
Directory.CreateDirectory(source);

await using var postgres = new PostgresServer(new PostgresServerOptions { Throwaway = true });
await postgres.StartAsync(Path.Combine(root, "pg"));
var database = await postgres.CreateDatabaseAsync("importbench");

long totalBytes = 0;
for (var i = 0; i < archives; i++)
{
    totalBytes += WriteArchive(Path.Combine(source, $"bench-{i:D3}.tar"), $"bench-{i:D3}", megabytes);
}

var results = new Dictionary<string, List<double>> { ["tar -xf"] = [], ["import (1 at a time)"] = [], ["import (2 at a time)"] = [] };
for (var round = 0; round < rounds; round++)
{
    var order = results.Keys.ToList();
    if (round % 2 == 1)
    {
        order.Reverse();
    }

    foreach (var variant in order)
    {
        var seconds = variant switch
        {
            "tar -xf" => await TarAsync(),
            "import (1 at a time)" => await ImportAsync(1),
            _ => await ImportAsync(2),
        };
        results[variant].Add(totalBytes / seconds / (1 << 20));
    }
}

Console.WriteLine($"{archives} archives x {megabytes} MiB ({totalBytes / (1 << 20)} MiB), {rounds} rounds, MiB/s per round:");
foreach (var (variant, values) in results)
{
    Console.WriteLine($"  {variant,-22} median {Median(values),8:F1}   [{string.Join(", ", values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}]");
}

var baseline = Median(results["tar -xf"]);
Console.WriteLine($"ratio import(1)/tar = {Median(results["import (1 at a time)"]) / baseline:F2}");
Console.WriteLine($"ratio import(2)/tar = {Median(results["import (2 at a time)"]) / baseline:F2}");
await postgres.StopAsync();
Directory.Delete(root, recursive: true);
return;

async Task<double> TarAsync()
{
    var target = Fresh("tar-out");
    var watch = Stopwatch.StartNew();
    foreach (var archive in Directory.EnumerateFiles(source).Order(StringComparer.Ordinal))
    {
        var dir = Path.Combine(target, Path.GetFileNameWithoutExtension(archive));
        Directory.CreateDirectory(dir);
        using var tar = Process.Start(new ProcessStartInfo("tar", ["-xf", archive, "-C", dir]))!;
        await tar.WaitForExitAsync();
        if (tar.ExitCode != 0)
        {
            throw new InvalidOperationException("tar failed");
        }
    }

    var elapsed = watch.Elapsed.TotalSeconds;
    Directory.Delete(target, recursive: true);
    return elapsed;
}

async Task<double> ImportAsync(int parallelism)
{
    var spool = Fresh("spool");
    foreach (var d in new[] { "work", "published", "unpublished" })
    {
        Fresh(d);
    }

    foreach (var archive in Directory.EnumerateFiles(source))
    {
        File.Copy(archive, Path.Combine(spool, Path.GetFileName(archive)));
    }

    using var host = await StartHostAsync();
    await using (var db = await host.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>().CreateDbContextAsync())
    {
        await db.Database.ExecuteSqlRawAsync("TRUNCATE recordings, recording_imports CASCADE");
    }

    var importer = host.Services.GetRequiredService<RecordingImporter>();
    var queue = new Queue<string>(Directory.EnumerateFiles(spool).Order(StringComparer.Ordinal));
    var watch = Stopwatch.StartNew();
    await Parallel.ForEachAsync(queue, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (archive, ct) =>
    {
        if (await importer.ImportAsync(archive, ct) != ImportOutcome.Imported)
        {
            throw new InvalidOperationException($"{archive} was not imported");
        }
    });
    var elapsed = watch.Elapsed.TotalSeconds;
    await host.StopAsync();
    return elapsed;
}

async Task<IHost> StartHostAsync()
{
    var builder = Host.CreateApplicationBuilder();
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ConnectionStrings:scalelite"] = database,
        ["ConnectionStrings:redis"] = "127.0.0.1:1",
        ["Scalelite:Secrets"] = "bench",
        ["Recording:SpoolDir"] = Path.Combine(root, "spool"),
        ["Recording:WorkDir"] = Path.Combine(root, "work"),
        ["Recording:PublishDir"] = Path.Combine(root, "published"),
        ["Recording:UnpublishDir"] = Path.Combine(root, "unpublished"),
        ["Recording:Disabled"] = "true",
    });
    builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.EntityFrameworkCore", LogLevel.None);
    builder.AddScaleliteCore();
    builder.AddRecordingSync();
    var host = builder.Build();
    await host.StartAsync();
    await host.Services.GetRequiredService<DatabaseMigrator>().Migrated;
    return host;
}

string Fresh(string name)
{
    var dir = Path.Combine(root, name);
    if (Directory.Exists(dir))
    {
        Directory.Delete(dir, recursive: true);
    }

    Directory.CreateDirectory(dir);
    return dir;
}

static long WriteArchive(string path, string recordId, int megabytes)
{
    string[] formats = ["presentation", "video"];
    var perFile = 2 << 20;
    var files = Math.Max(1, megabytes / 2 / formats.Length);
    var body = new byte[perFile];
    new Random(42).NextBytes(body);
    using var file = File.Create(path);
    using var tar = new TarWriter(file, TarEntryFormat.Pax);
    foreach (var format in formats)
    {
        var xml = $"""
            <recording><id>{recordId}</id><state>published</state><published>true</published>
            <start_time>1647181479536</start_time><end_time>1647181557090</end_time><participants>2</participants>
            <meeting id="{recordId}" externalId="m-{recordId}" name="bench" breakout="false"/>
            <meta><meetingName>bench</meetingName><isBreakout>false</isBreakout><meetingId>m-{recordId}</meetingId><bbb-origin>Moodle</bbb-origin><course>c1</course><term>t1</term></meta>
            <playback><format>{format}</format><link>https://bbb/playback/{format}/{recordId}</link><processing_time>100</processing_time><duration>60000</duration><size>{files * perFile}</size></playback>
            <raw_size>1000</raw_size></recording>
            """;
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{format}/{recordId}/metadata.xml") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(xml)) });
        for (var i = 0; i < files; i++)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"{format}/{recordId}/media/{i:D3}.bin") { DataStream = new MemoryStream(body) });
        }
    }

    file.Flush();
    return file.Length;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

int Arg(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}
