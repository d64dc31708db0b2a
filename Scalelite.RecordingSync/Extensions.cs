using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalelite.Core.Recordings;
using Scalelite.RecordingSync.Callbacks;
using Scalelite.RecordingSync.Importing;
using Scalelite.RecordingSync.Monitoring;

namespace Scalelite.RecordingSync;

public static class RecordingSyncExtensions
{
    /// <summary>The importer, the spool watcher and the callback sender.</summary>
    public static IHostApplicationBuilder AddRecordingSync(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddMetrics();
        services.TryAddSingleton<IImportProbe, NoImportProbe>();
        services.TryAddSingleton<ICallbackSecrets, TenantCallbackSecrets>();
        services.AddSingleton<RecordingSyncMetrics>();
        services.AddSingleton<RecordingFiles>();
        services.AddSingleton<RecordingImporter>();
        services.AddHostedService<SpoolImportService>();
        services.AddSingleton<CallbackSender>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackSender>());
        services.AddHttpClient(CallbackSender.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15));
        services.AddRecordingMonitor();
        return builder;
    }
}
