using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Scalelite.LocalServers;
using Scalelite.Core;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Health;
using Scalelite.Poller.Polling;

// One poll cycle over N simulated backends (5 % hung, 5 % slower than the timeout), against a baseline measured in
// the same run: the bare getMeetings fan-out to the same backends with the same client and timeouts, i.e. what a
// cycle cannot go below. Rounds alternate the order (baseline first, then cycle first). The simulators run in a
// child process, so the CPU time measured here is the poller's own.
var simulatorDll = args[0];
var sizes = args[1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var rounds = int.Parse(args[2], CultureInfo.InvariantCulture);
var timeout = double.Parse(args[3], CultureInfo.InvariantCulture);
var output = args[4];

var work = Path.Combine(Path.GetTempPath(), $"poller-bench-{Environment.ProcessId}");
Directory.CreateDirectory(work);
if (!OperatingSystem.IsWindows())
{
    File.SetUnixFileMode(work, (UnixFileMode)Convert.ToInt32("755", 8));
}
await using var postgres = new PostgresServer(new PostgresServerOptions { Throwaway = true });
await postgres.StartAsync(Path.Combine(work, "pg"));
await using var redis = new RedisServer();
await redis.StartAsync(Path.Combine(work, "redis"));

var results = new List<object>();
foreach (var n in sizes)
{
    var manifest = Path.Combine(work, $"sims-{n}.json");
    using var simulator = Process.Start(new ProcessStartInfo("dotnet", [simulatorDll, "--count", n.ToString(CultureInfo.InvariantCulture), "--manifest", manifest]) { RedirectStandardOutput = true })!;
    // Drained, or a chatty simulator fills the pipe and stops.
    simulator.OutputDataReceived += (_, _) => { };
    simulator.BeginOutputReadLine();
    try
    {
        results.Add(await MeasureAsync(n, manifest));
    }
    finally
    {
        simulator.Kill(entireProcessTree: true);
        await simulator.WaitForExitAsync();
    }
}

await File.WriteAllTextAsync(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
Directory.Delete(work, recursive: true);
return 0;

async Task<object> MeasureAsync(int n, string manifest)
{
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (!File.Exists(manifest))
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException("the simulator wrote no manifest");
        }

        await Task.Delay(100);
    }

    using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(manifest));
    var sims = doc.RootElement.GetProperty("simulators").EnumerateArray()
        .Select(e => (Url: e.GetProperty("url").GetString()!, Secret: e.GetProperty("secret").GetString()!, Control: e.GetProperty("control").GetString()!)).ToList();

    using var http = new HttpClient();
    for (var i = 0; i < sims.Count; i += 20)
    {
        await http.PostAsync($"{sims[i].Control}/fault?mode=hang", null);
        await http.PostAsync($"{sims[i + 10].Control}/fault?mode=slow&delayMs={(int)((timeout + 1) * 1000)}", null);
    }

    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ConnectionStrings:scalelite"] = await postgres.CreateDatabaseAsync($"bench{n}"),
        ["ConnectionStrings:redis"] = $"127.0.0.1:{redis.Port},defaultDatabase={Array.IndexOf(sizes, n)}",
        ["Scalelite:Secrets"] = "bench",
        ["Backend:ResponseTimeout"] = timeout.ToString(CultureInfo.InvariantCulture),
        ["Backend:ConnectTimeout"] = "1",
        ["Logging:LogLevel:Default"] = "Error",
    });
    builder.AddScaleliteCore();
    builder.Services.AddPolling();
    using var host = builder.Build();
    await host.StartAsync();
    await host.Services.GetRequiredService<DatabaseMigrator>().Migrated.WaitAsync(TimeSpan.FromSeconds(60));
    var dbFactory = host.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>();
    await using (var db = await dbFactory.CreateDbContextAsync())
    {
        db.Servers.AddRange(sims.Select(s => new Server { Url = s.Url, Secret = s.Secret, State = ServerState.Enabled, Online = true }));
        await db.SaveChangesAsync();
    }

    var cycle = host.Services.GetRequiredService<PollCycle>();
    var probe = host.Services.GetRequiredService<ServerProbe>();
    List<ServerSnapshot> snapshots;
    await using (var db = await dbFactory.CreateDbContextAsync())
    {
        snapshots = [.. (await db.Servers.AsNoTracking().ToListAsync()).Select(ServerSnapshot.From)];
    }

    Task Baseline() => Task.WhenAll(snapshots.Select(s => probe.ProbeAsync(s, false, CancellationToken.None)));
    Task Cycle() => cycle.RunAsync(CancellationToken.None);

    // Warm-up: connections, JIT, the first cycle's version probes.
    await Cycle();
    await Baseline();

    var me = Process.GetCurrentProcess();
    var samples = new Dictionary<string, List<(double Wall, double CpuMs)>> { ["baseline"] = [], ["cycle"] = [] };
    var lookups = new Dictionary<string, List<double>> { ["baseline"] = [], ["cycle"] = [] };
    // The join path's Redis work is one owner lookup: time one every 2 ms on a connection of its own while each
    // measurement runs, to see what a cycle's Redis traffic costs a join.
    await using var joinRedis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port},defaultDatabase={Array.IndexOf(sizes, n)}");
    async Task MeasureOne(string name, Func<Task> run)
    {
        me.Refresh();
        var cpu = me.TotalProcessorTime;
        using var stop = new CancellationTokenSource();
        var probeLoop = Task.Run(async () =>
        {
            var db = joinRedis.GetDatabase();
            while (!stop.IsCancellationRequested)
            {
                var t = Stopwatch.GetTimestamp();
                await db.HashGetAsync("sl:m::bench-meeting", "s");
                lookups[name].Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                await Task.Delay(2);
            }
        });
        var watch = Stopwatch.StartNew();
        await run();
        watch.Stop();
        await stop.CancelAsync();
        await probeLoop;
        me.Refresh();
        samples[name].Add((watch.Elapsed.TotalSeconds, (me.TotalProcessorTime - cpu).TotalMilliseconds));
    }

    for (var r = 0; r < rounds; r++)
    {
        if (r % 2 == 0)
        {
            await MeasureOne("baseline", Baseline);
            await MeasureOne("cycle", Cycle);
        }
        else
        {
            await MeasureOne("cycle", Cycle);
            await MeasureOne("baseline", Baseline);
        }
    }

    await host.StopAsync();
    static double Median(IEnumerable<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    static double Percentile(List<double> v, double q)
    {
        var s = v.Order().ToArray();
        return s.Length == 0 ? double.NaN : s[Math.Min(s.Length - 1, (int)(q * s.Length))];
    }

    var cycleWall = Median(samples["cycle"].Select(x => x.Wall));
    var baseWall = Median(samples["baseline"].Select(x => x.Wall));
    var ratios = Median(samples["cycle"].Zip(samples["baseline"]).Select(p => p.First.Wall / p.Second.Wall));
    var result = new
    {
        backends = n,
        hung = n / 20,
        slow = n / 20,
        timeoutSeconds = timeout,
        rounds,
        cycleSecondsMedian = cycleWall,
        cycleSecondsMax = samples["cycle"].Max(x => x.Wall),
        baselineSecondsMedian = baseWall,
        ratioOfMedians = cycleWall / baseWall,
        medianOfRatios = ratios,
        cycleCpuMsPerBackend = Median(samples["cycle"].Select(x => x.CpuMs)) / n,
        baselineCpuMsPerBackend = Median(samples["baseline"].Select(x => x.CpuMs)) / n,
        ownerLookupMsP50Cycle = Percentile(lookups["cycle"], 0.5),
        ownerLookupMsP99Cycle = Percentile(lookups["cycle"], 0.99),
        ownerLookupMsP50Baseline = Percentile(lookups["baseline"], 0.5),
        ownerLookupMsP99Baseline = Percentile(lookups["baseline"], 0.99),
    };
    Console.WriteLine(JsonSerializer.Serialize(result));
    return result;
}
