using System.Text;
using Scalelite.AppHost;

namespace Aspire.Hosting;

/// <summary>One simulated BBB server, shown under the simulator process with its state in the pool.</summary>
public sealed class SimulatedServerResource(string name, string url, string secret, string control) : Resource(name)
{
    public string Url { get; } = url;

    public string Secret { get; } = secret;

    public string Control { get; } = control;
}

/// <summary>The simulator process, its servers, and their registration through the product's own operator path.</summary>
public static class SimulatorExtensions
{
    public const string Registration = "register-simulators";

    /// <summary>
    /// The BBB simulator project serving <paramref name="ports"/>.Count servers, one unproxied endpoint each (so the
    /// pool reaches them directly), healthy once the first answers; each server appears as a child resource.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddSimulators(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, IReadOnlyList<int> ports, string secret, string spool)
    {
        var simulators = builder.AddProject<Projects.Scalelite_BbbSimulator>(name)
            .WithArgs("--count", ports.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--secret", secret,
                "--ports", string.Join(',', ports), "--spool", spool)
            .WithoutHttpsCertificate()
            .WithIconName("Server")
            .ExcludeFromManifest();
        for (var i = 0; i < ports.Count; i++)
        {
            var id = $"sim-{i + 1}";
            var baseUrl = $"http://127.0.0.1:{ports[i]}";
            simulators.WithHttpEndpoint(name: id, port: ports[i], targetPort: ports[i], isProxied: false);
            builder.AddResource(new SimulatedServerResource(id, baseUrl + "/bigbluebutton/api", secret, baseUrl + "/sim"))
                .WithInitialState(new CustomResourceSnapshot
                {
                    ResourceType = "BBB server",
                    State = "Not registered",
                    Properties = [],
                })
                .WithParentRelationship(simulators)
                .WithIconName("Video")
                .ExcludeFromManifest();
        }

        if (ports.Count > 0)
        {
            simulators.WithHttpHealthCheck("/bigbluebutton/api", endpointName: "sim-1");
        }

        return simulators;
    }

    /// <summary>
    /// Registers and enables the simulated servers as an operator would: <c>scalelite servers sync</c> with a servers
    /// file, run once the API and the simulators are healthy. Servers an earlier run registered whose URL is gone are
    /// set to disabled; servers anyone else added are left alone (<c>--mode keep</c>).
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddSimulatorRegistration(
        this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> simulators,
        IResourceBuilder<IResourceWithEndpoints> api, IResourceBuilder<ParameterResource> secret, LocalState state)
    {
        var servers = builder.Resources.OfType<SimulatedServerResource>().ToList();
        var yaml = new StringBuilder("# Written by the AppHost at each start: the simulated servers of this run.\nservers:\n");
        foreach (var server in servers)
        {
            // The key becomes the id of a server the sync adds; with the port in it, a simulator that had to move to
            // another port is a new server (the old one is disabled below) rather than an id whose URL changed.
            yaml.Append($"  {server.Name}-{new Uri(server.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}:\n    url: {server.Url}\n    secret: {server.Secret}\n    state: enabled\n");
        }

        foreach (var (url, i) in state.RegisteredUrls.Except(servers.Select(s => s.Url)).Select((u, i) => (u, i)))
        {
            yaml.Append($"  earlier-{i + 1}:\n    url: {url}\n    state: disabled\n");
        }

        LocalState.WriteAtomically(state.SimulatorsFile, yaml.ToString());
        state.RememberRegistered(servers.Select(s => s.Url));

        return builder.AddProject<Projects.Scalelite_Cli>(Registration)
            .WithArgs("servers", "sync", state.SimulatorsFile, "--mode", "keep")
            .WithEnvironment("SCALELITE_URL", api.GetEndpoint("http"))
            .WithEnvironment("LOADBALANCER_SECRET", secret)
            .WaitFor(api)
            .WaitFor(simulators)
            .WithParentRelationship(simulators)
            .WithoutHttpsCertificate()
            .WithIconName("PlugConnected")
            .ExcludeFromManifest();
    }
}
