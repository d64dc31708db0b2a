using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Scalelite.AppHost;

/// <summary>
/// What a local run (not a publish) settles before the resources are declared: the state directory, the ports kept
/// from the last run where still free (API, simulators, dashboard), the load-balancer secret, and whether a container
/// runtime answers.
/// </summary>
/// With several API replicas, <see cref="ApiPort"/> is the load balancer's and each replica has a port of its own.
public sealed record LocalRun(
    LocalState State, AppHostFlags Flags, string Secret, int ApiPort, IReadOnlyList<int> ApiReplicaPorts, IReadOnlyList<int> SimulatorPorts, bool Containers)
{
    public string ApiBaseUrl => $"http://127.0.0.1:{ApiPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Each API replica's own base URL; the API's when it runs as one process.</summary>
    public IReadOnlyList<string> ApiReplicaBaseUrls =>
        ApiReplicaPorts.Count == 0 ? [ApiBaseUrl] : [.. ApiReplicaPorts.Select(p => $"http://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}")];

    public string Spool => Path.Combine(State.Recordings, "spool");

    /// <summary>Null when publishing (a manifest has no local state).</summary>
    public static LocalRun? Prepare(IDistributedApplicationBuilder builder, AppHostFlags flags)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return null;
        }

        var state = new LocalState(flags.StateDirectory);
        state.Lock();
        var secret = flags.Secret ?? state.GetOrCreateSecret();
        var run = new LocalRun(
            state,
            flags,
            secret,
            state.Port("api", flags.ApiPort),
            // Aspire's replicas get ports DCP picks, behind its proxy on the API's port.
            flags.ApiReplicas > 1 && !flags.AspireReplicaFront ? [.. Enumerable.Range(1, flags.ApiReplicas).Select(i => state.Port($"api-{i}"))] : [],
            [.. Enumerable.Range(1, flags.Simulators).Select(i => state.Port($"sim-{i}"))],
            ContainerRuntime.Answers());
        File.Delete(state.EndpointsFile);

        var settings = new Dictionary<string, string?> { ["Parameters:loadbalancer-secret"] = secret };
        if (flags.Dashboard)
        {
            // Run without a launch profile (the built dll, tests, scripts), the dashboard still needs addresses: the
            // last run's ports when free, so its URL stays the same.
            Default("ASPNETCORE_URLS", "dashboard");
            Default("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "dashboard-otlp");
            Default("ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL", "dashboard-resources");
            if (string.IsNullOrEmpty(builder.Configuration["ASPIRE_ALLOW_UNSECURED_TRANSPORT"]))
            {
                settings["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
            }
        }

        builder.Configuration.AddInMemoryCollection(settings);
        return run;

        void Default(string key, string port)
        {
            if (string.IsNullOrEmpty(builder.Configuration[key]))
            {
                settings[key] = $"http://127.0.0.1:{state.Port(port).ToString(CultureInfo.InvariantCulture)}";
            }
        }
    }
}
