using System.Collections.Immutable;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Scalelite.AppHost;

/// <summary>Registers <see cref="PoolReadiness"/> and <see cref="ProjectShutdown"/> for a local run.</summary>
public static class PoolReadinessExtensions
{
    public static void AddPoolReadiness(
        this IDistributedApplicationBuilder builder, LocalRun local, IResourceBuilder<IResourceWithConnectionString> database,
        IResourceBuilder<IResourceWithConnectionString> redis, IResourceBuilder<ProjectResource> poller, IResourceBuilder<ProjectResource> recordingSync)
    {
        builder.Services.AddSingleton(new ReadinessTargets(
            local.ApiBaseUrl, local.ApiReplicaBaseUrls, local.Secret, [.. builder.Resources.OfType<SimulatedServerResource>()],
            database.Resource, redis.Resource, poller.Resource, recordingSync.Resource, local.State));
        builder.Services.AddHostedService<PoolReadiness>();
        builder.Services.AddHostedService<ProjectShutdown>();
    }
}

/// <summary>What <see cref="PoolReadiness"/> watches and reports.</summary>
public sealed record ReadinessTargets(
    string ApiBaseUrl,
    IReadOnlyList<string> ApiReplicaBaseUrls,
    string Secret,
    IReadOnlyList<SimulatedServerResource> Simulators,
    IResourceWithConnectionString Database,
    IResourceWithConnectionString Redis,
    IResourceWithEndpoints Poller,
    IResourceWithEndpoints RecordingSync,
    LocalState State);

/// <summary>
/// Shows each simulated server's state in the pool (as the API's operator view reports it) on its resource, and once
/// every one is online, writes <c>endpoints.json</c> and prints the <c>Ready: N/N simulators online. API ... secret ...</c>
/// line that scripts wait for. endpoints.json is removed at stop.
/// </summary>
public sealed class PoolReadiness(
    ReadinessTargets targets,
    ResourceNotificationService notifications,
    DistributedApplicationOptions options,
    IConfiguration configuration,
    ILogger<PoolReadiness> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (!await RegisteredAsync(stoppingToken))
            {
                return;
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", targets.Secret.Split(':')[0]);
            var announced = false;
            using var timer = new PeriodicTimer(Interval);
            do
            {
                var online = await RefreshAsync(http, stoppingToken);
                if (!announced && online == targets.Simulators.Count)
                {
                    await AnnounceAsync(stoppingToken);
                    announced = true;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        targets.State.Release();
    }

    /// <summary>Waits for the registration step (or, without simulators, for the API); false when it failed.</summary>
    private async Task<bool> RegisteredAsync(CancellationToken cancellationToken)
    {
        if (targets.Simulators.Count == 0)
        {
            await notifications.WaitForResourceHealthyAsync("api", cancellationToken);
            return true;
        }

        var done = await notifications.WaitForResourceAsync(
            SimulatorExtensions.Registration, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), cancellationToken);
        if (done.Snapshot.ExitCode is 0)
        {
            return true;
        }

        logger.LogError("The simulators could not be registered (exit code {ExitCode}); see the log of {Resource}.", done.Snapshot.ExitCode, SimulatorExtensions.Registration);
        return false;
    }

    /// <summary>Publishes every simulated server's state; returns how many are online.</summary>
    private async Task<int> RefreshAsync(HttpClient http, CancellationToken cancellationToken)
    {
        JsonElement servers;
        try
        {
            servers = await JsonSerializer.DeserializeAsync<JsonElement>(
                await http.GetStreamAsync(new Uri(targets.ApiBaseUrl + "/api/v1/servers"), cancellationToken), cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The API's own resource shows why; keep the last known states.
            return -1;
        }

        if (servers.ValueKind != JsonValueKind.Array)
        {
            return -1;
        }

        var online = 0;
        foreach (var simulator in targets.Simulators)
        {
            var server = servers.EnumerateArray().FirstOrDefault(s => s.GetProperty("url").GetString() == simulator.Url);
            var isOnline = server.ValueKind == JsonValueKind.Object && server.GetProperty("online").GetBoolean();
            online += isOnline ? 1 : 0;
            var state = server.ValueKind != JsonValueKind.Object
                ? new ResourceStateSnapshot("Not registered", KnownResourceStateStyles.Info)
                : new ResourceStateSnapshot(isOnline ? "Online" : "Offline", isOnline ? KnownResourceStateStyles.Success : KnownResourceStateStyles.Warn);
            await notifications.PublishUpdateAsync(simulator, s => s with
            {
                State = state,
                StartTimeStamp = s.StartTimeStamp ?? DateTime.UtcNow,
                Urls = [new UrlSnapshot("api", simulator.Url, IsInternal: false), new UrlSnapshot("control", simulator.Control, IsInternal: false)],
                Properties = server.ValueKind != JsonValueKind.Object ? s.Properties : Set(
                    s.Properties,
                    new ResourcePropertySnapshot("pool.id", server.GetProperty("id").GetString()),
                    new ResourcePropertySnapshot("pool.state", server.GetProperty("state").GetString()),
                    new ResourcePropertySnapshot("pool.meetings", server.GetProperty("meetings").GetInt32())),
            });
        }

        return online;
    }

    private async Task AnnounceAsync(CancellationToken cancellationToken)
    {
        var endpoints = new ScaleliteEndpoints(
            new ApiEndpoint(targets.ApiBaseUrl + "/bigbluebutton/api", targets.Secret, [.. targets.ApiReplicaBaseUrls.Select(u => u + "/bigbluebutton/api")]),
            new UrlEndpoint(targets.ApiBaseUrl + "/scalelite/api"),
            [.. targets.Simulators.Select(s => new SimulatorEndpoint(s.Name, s.Url, s.Secret, s.Control))],
            await targets.Database.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? "",
            await targets.Redis.ConnectionStringExpression.GetValueAsync(cancellationToken) ?? "",
            new UrlEndpoint(Loopback(targets.Poller)),
            new UrlEndpoint(Loopback(targets.RecordingSync)),
            targets.State.Root,
            DashboardLoginUrl() is { } dashboard ? new UrlEndpoint(dashboard) : null,
            new MetricsEndpoints(targets.ApiBaseUrl + "/metrics", Loopback(targets.Poller) + "/metrics", Loopback(targets.RecordingSync) + "/metrics"));
        LocalState.WriteAtomically(targets.State.EndpointsFile, endpoints.ToJson());
        var count = targets.Simulators.Count.ToString(CultureInfo.InvariantCulture);
        Console.Out.WriteLine(
            $"Ready: {count}/{count} simulators online. API {endpoints.Api.Url} secret {endpoints.Api.Secret}\n" +
            $"(endpoints in {targets.State.EndpointsFile}{(endpoints.Dashboard is { } d ? $", dashboard {d.Url}" : "")}). Press Ctrl-C to stop.");
    }

    /// <summary>Replaces or adds <paramref name="values"/>, keeping the rest (such as the parent's name, which nests the row).</summary>
    private static ImmutableArray<ResourcePropertySnapshot> Set(ImmutableArray<ResourcePropertySnapshot> properties, params ResourcePropertySnapshot[] values) =>
        [.. properties.Where(p => values.All(v => v.Name != p.Name)), .. values];

    private static string Loopback(IResourceWithEndpoints service) =>
        $"http://127.0.0.1:{service.GetEndpoint("http").Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The dashboard's first URL with its browser token, as Aspire prints it at start; null without a dashboard.</summary>
    private string? DashboardLoginUrl()
    {
        if (options.DisableDashboard || configuration["ASPNETCORE_URLS"]?.Split(';')[0] is not { Length: > 0 } url)
        {
            return null;
        }

        return configuration["AppHost:BrowserToken"] is { Length: > 0 } token ? $"{url.TrimEnd('/')}/login?t={token}" : url;
    }
}
