using Scalelite.LocalServers;

namespace Scalelite.Tests.Infrastructure;

/// <summary>
/// The one PostgreSQL cluster and the one Redis of a test run, started on first use in a temporary directory on free
/// ports and stopped when the test process exits. Also tracks dedicated servers tests start, so that none outlives the
/// run even when a test fails before disposing it.
/// </summary>
/// <remarks>
/// xunit 2 has no assembly fixture and collection fixtures serialize their tests, so the servers live here, behind a
/// lazily started singleton; <see cref="InfrastructureFixture"/> only hands them out. A run that is killed leaves its
/// directory behind with an owner pid file; the next run stops those servers and removes the directory.
/// </remarks>
public static class TestInfrastructure
{
    private static readonly Lock Gate = new();
    private static readonly List<IAsyncDisposable> Started = [];
    private static Task<(PostgresServer Postgres, RedisServer Redis)>? _shared;
    private static string? _runDirectory;
    private static int _databaseCounter;
    private static int _redisDatabaseCounter;

    /// <summary>Number of logical databases the shared Redis offers to <see cref="NextRedisDatabase"/>.</summary>
    public const int SharedRedisDatabases = 2048;

    /// <summary>The directory of this run: <c>$TMPDIR/scalelite-tests/run-PID-XXXX</c>.</summary>
    public static string RunDirectory
    {
        get
        {
            lock (Gate)
            {
                return _runDirectory ??= CreateRunDirectory();
            }
        }
    }

    /// <summary>The shared servers, started once per test process.</summary>
    public static Task<(PostgresServer Postgres, RedisServer Redis)> GetSharedAsync()
    {
        lock (Gate)
        {
            if (_shared is null || _shared.IsFaulted || _shared.IsCanceled)
            {
                _shared = StartSharedAsync();
            }
            return _shared;
        }
    }

    /// <summary>A fresh, uniquely named database in the shared cluster.</summary>
    public static async Task<string> CreateDatabaseAsync(string? prefix = null, CancellationToken cancellationToken = default)
    {
        var (postgres, _) = await GetSharedAsync();
        var stem = new string((prefix ?? "test").ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').Take(40).ToArray());
        if (stem.Length == 0 || char.IsAsciiDigit(stem[0]))
        {
            stem = "t_" + stem;
        }
        var name = $"{stem}_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}"[..Math.Min(63, stem.Length + 20)];
        return await postgres.CreateDatabaseAsync(name, cancellationToken);
    }

    /// <summary>A logical database index of the shared Redis nobody else in this run got.</summary>
    public static int NextRedisDatabase()
    {
        var index = Interlocked.Increment(ref _redisDatabaseCounter);
        return index < SharedRedisDatabases
            ? index
            : throw new InvalidOperationException($"All {SharedRedisDatabases - 1} spare Redis databases are handed out; use a dedicated Redis.");
    }

    /// <summary>A Redis of the caller's own (for tests that flush, restart or stop it). Dispose it when done.</summary>
    public static async Task<RedisServer> StartDedicatedRedisAsync(CancellationToken cancellationToken = default)
    {
        var redis = new RedisServer();
        Track(redis);
        await redis.StartAsync(Path.Combine(RunDirectory, $"redis-{Guid.NewGuid():N}"[..14]), cancellationToken);
        return redis;
    }

    /// <summary>A PostgreSQL cluster of the caller's own (for tests that stop or restart it). Dispose it when done.</summary>
    public static async Task<PostgresServer> StartDedicatedPostgresAsync(CancellationToken cancellationToken = default)
    {
        var postgres = new PostgresServer(new PostgresServerOptions { Throwaway = true });
        Track(postgres);
        await postgres.StartAsync(Path.Combine(RunDirectory, $"pg-{Guid.NewGuid():N}"[..11], "data"), cancellationToken);
        return postgres;
    }

    private static void Track(IAsyncDisposable server)
    {
        lock (Gate)
        {
            Started.Add(server);
        }
    }

    private static async Task<(PostgresServer, RedisServer)> StartSharedAsync()
    {
        // Every test class gets databases of its own, and each in-process API, poller and importer keeps a
        // connection pool per database: the default of 100 connections is too few for a parallel run.
        var postgres = new PostgresServer(new PostgresServerOptions
        {
            Throwaway = true,
            Settings = new Dictionary<string, string> { ["max_connections"] = "600" },
        });
        var redis = new RedisServer(new RedisServerOptions { Databases = SharedRedisDatabases });
        Track(postgres);
        Track(redis);
        var root = RunDirectory;
        await Task.WhenAll(
            postgres.StartAsync(Path.Combine(root, "postgres", "data")),
            redis.StartAsync(Path.Combine(root, "redis")));
        return (postgres, redis);
    }

    private static string CreateRunDirectory()
    {
        var parent = Path.Combine(Path.GetTempPath(), "scalelite-tests");
        // Sticky and open like /tmp: postgres (and other users' runs) must be able to traverse it.
        Directory.CreateDirectory(parent);
        TrySetMode(parent, (UnixFileMode)Convert.ToInt32("1777", 8));
        CleanUpAbandonedRuns(parent);

        var run = Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(run);
        TrySetMode(run, (UnixFileMode)Convert.ToInt32("755", 8));
        File.WriteAllText(Path.Combine(run, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopEverything(run);
        StartWatchdog(run);
        return run;
    }

    private static void StopEverything(string run)
    {
        List<IAsyncDisposable> servers;
        lock (Gate)
        {
            servers = [.. Started];
            Started.Clear();
        }
        // ProcessExit handlers are synchronous; stop in parallel to stay well within the host's patience.
        Task.WhenAll(servers.Select(async server =>
        {
            try
            {
                await server.DisposeAsync();
            }
            catch (Exception)
            {
                // Best effort at exit; the next run's clean-up catches whatever survives.
            }
        })).Wait(TimeSpan.FromSeconds(20));
        TryDelete(run);
    }

    /// <summary>
    /// The test host may be killed right after the last test (the runner does not wait long for ProcessExit handlers),
    /// or crash. A detached shell outlives it, then stops whatever servers are left in the run directory and removes it.
    /// </summary>
    private static void StartWatchdog(string run)
    {
        var script = $$"""
            exec </dev/null >/dev/null 2>&1
            (
              while kill -0 {{Environment.ProcessId}}; do sleep 0.5; done
              # AppHosts started by tests name their state directory, which is inside the run directory; SIGTERM
              # makes one stop everything it runs.
              for p in /proc/[0-9]*; do
                tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF -- "--state-dir {{run}}/" && kill -TERM "${p#/proc/}"
              done
              for f in $(find '{{run}}' \( -name postmaster.pid -o -name redis.pid \) 2>/dev/null); do
                pid=$(head -n 1 "$f")
                # SIGINT is PostgreSQL's fast shutdown; SIGTERM stops Redis (it has no persistence here).
                case "$f" in *postmaster.pid) kill -INT "$pid" ;; *) kill -TERM "$pid" ;; esac
              done
              sleep 2
              rm -rf '{{run}}'
            ) &
            """;
        try
        {
            CommandRunner.RunAsync("setsid", ["sh", "-c", script], CancellationToken.None, timeout: TimeSpan.FromSeconds(10)).Wait();
        }
        catch (Exception)
        {
            // Without the watchdog the ProcessExit handler and the next run's clean-up still apply.
        }
    }

    private static void CleanUpAbandonedRuns(string parent)
    {
        foreach (var run in Directory.EnumerateDirectories(parent, "run-*"))
        {
            var owner = ProcessUtilities.ReadPidFile(Path.Combine(run, "owner.pid"));
            if (owner is int pid && ProcessUtilities.IsAlive(pid))
            {
                continue;
            }
            try
            {
                foreach (var dir in Directory.EnumerateDirectories(run, "*", SearchOption.AllDirectories))
                {
                    if (File.Exists(Path.Combine(dir, "postmaster.pid")))
                    {
                        PostgresServer.StopStaleAsync(dir).Wait(TimeSpan.FromSeconds(30));
                    }
                    if (File.Exists(Path.Combine(dir, "redis.pid")))
                    {
                        RedisServer.StopStaleAsync(dir).Wait(TimeSpan.FromSeconds(10));
                    }
                }
            }
            catch (Exception)
            {
                // Another run may be cleaning up the same directory at the same time.
            }
            TryDelete(run);
        }
    }

    private static void TrySetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        try
        {
            File.SetUnixFileMode(path, mode);
        }
        catch (UnauthorizedAccessException)
        {
            // Created by another user, who set the mode already.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception)
        {
        }
    }
}
