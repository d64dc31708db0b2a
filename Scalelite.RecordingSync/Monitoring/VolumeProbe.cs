using System.Collections.Concurrent;
using Scalelite.Core.Monitoring;

namespace Scalelite.RecordingSync.Monitoring;

/// <summary>Runs a synchronous look at the file system under a timeout, one at a time per key.</summary>
/// <remarks>
/// A lost NFS mount blocks every call into it until the mount comes back, and nothing can cancel a thread stuck in
/// the kernel. So each probe runs on a thread of its own and the caller waits at most the timeout; a probe that does
/// not come back is left running, and until it does, asking again answers "not answering" at once, with how long it
/// has been hanging, instead of piling up more stuck threads.
/// </remarks>
public sealed class VolumeProbe(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (Task Probe, DateTimeOffset Started)> _hanging = new(StringComparer.Ordinal);

    /// <returns>The probe's result, or null with the seconds it has been hanging.</returns>
    public async Task<(T? Result, double HangingSeconds)> RunAsync<T>(string key, Func<T> probe, TimeSpan timeout) where T : class
    {
        if (_hanging.TryGetValue(key, out var stuck))
        {
            if (!stuck.Probe.IsCompleted)
            {
                return (null, (time.GetUtcNow() - stuck.Started).TotalSeconds);
            }

            _hanging.TryRemove(key, out _);
        }

        var started = time.GetUtcNow();
        var task = Task.Factory.StartNew(probe, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return (await task.WaitAsync(timeout, time), 0);
        }
        catch (TimeoutException)
        {
            _hanging[key] = (task, started);
            return (null, (time.GetUtcNow() - started).TotalSeconds);
        }
    }

    /// <summary>A directory's report, or "not answering" when its probe did not come back within the timeout.</summary>
    public async Task<DirectoryReport> DirectoryAsync(string name, string path, TimeSpan timeout, Func<string, string, DirectoryReport>? probe = null)
    {
        probe ??= DirectoryProbe.Probe;
        var (report, hanging) = await RunAsync("dir:" + path, () => probe(name, path), timeout);
        return report ?? new DirectoryReport(name, path, DirectoryStatus.NotAnswering, $"no answer for {hanging:0.#} s", null, null, null, null, hanging);
    }
}

public static class RecordingMonitorExtensions
{
    /// <summary>The recording volume's probe and its report (<see cref="RecordingMonitor"/>).</summary>
    public static IServiceCollection AddRecordingMonitor(this IServiceCollection services)
    {
        services.AddMonitoringStore();
        services.AddSingleton<VolumeProbe>();
        services.AddSingleton<RecordingMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<RecordingMonitor>());
        return services;
    }
}
