using System.Globalization;
using System.Text;
using Scalelite.AppHost;
using Scalelite.LocalServers;

namespace Aspire.Hosting;

/// <summary>The API as one process, or as several replicas behind one endpoint.</summary>
/// <remarks>
/// Replicas need no coordination of their own: Redis holds the shared state and the owner cache is invalidated through
/// a channel, so any replica may answer any call. Run locally with more than one replica, the projects
/// <c>api-1</c> ... <c>api-N</c> each listen on a port of their own (remembered across runs like the others), and
/// <c>api</c> is nginx on the API's port, spreading requests over them round-robin with keep-alive connections. nginx
/// rather than Aspire's replicas behind DCP's proxy: not for the join's speed (measured side by side, DCP's proxy was
/// no slower; bench/README.md, "Aspire's replicas or nginx in front"), but because each replica then has a port of its
/// own that tests and operators can address, and nginx re-sends a request whose replica died. A refused or reset connection is retried on the next replica for idempotent calls (every BBB call is a GET), and a
/// replica that failed is skipped for a few seconds, so losing one replica costs no answer. Published, the project
/// carries Aspire's replica count and the platform's load balancer (an Ingress, a Service) does the spreading.
/// </remarks>
public static class ApiReplicaExtensions
{
    /// <summary>Seconds nginx skips a replica that refused a connection before trying it again.</summary>
    private const int FailTimeoutSeconds = 5;

    /// <summary>
    /// The API: <paramref name="configure"/> is applied to each replica. Returns what callers (the registration step)
    /// reach the API through: the single project, or the load balancer in front of the replicas.
    /// </summary>
    public static IResourceBuilder<IResourceWithEndpoints> AddScaleliteApi(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, LocalRun? local, int replicas,
        Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> configure)
    {
        if (local is null)
        {
            var published = configure(builder.AddScaleliteService<Projects.Scalelite_Api>(name));
            return replicas > 1 ? published.WithReplicas(replicas) : published;
        }

        if (local.ApiReplicaPorts.Count == 0 && replicas > 1)
        {
            // --api-replica-front aspire: DCP's proxy listens on the API's port and spreads connections over the
            // replicas, each on a port DCP picks. Only for comparing the two fronts (bench/join/fronts.sh).
            return configure(builder.AddScaleliteService<Projects.Scalelite_Api>(name))
                .WithEndpoint("http", e =>
                {
                    e.IsProxied = true;
                    e.Port = local.ApiPort;
                    e.TargetPort = null;
                })
                .WithReplicas(replicas);
        }

        if (local.ApiReplicaPorts.Count == 0)
        {
            return configure(builder.AddScaleliteService<Projects.Scalelite_Api>(name, local.ApiPort));
        }

        var projects = local.ApiReplicaPorts
            .Select((port, i) => configure(builder.AddScaleliteService<Projects.Scalelite_Api>($"{name}-{(i + 1).ToString(CultureInfo.InvariantCulture)}", port)))
            .ToList();
        var balancer = builder.AddNginxLoadBalancer(name, local, projects);
        foreach (var project in projects)
        {
            project.WithParentRelationship(balancer);
        }

        return balancer;
    }

    /// <summary>nginx on the API's port in front of <paramref name="replicas"/>, healthy once a replica answers <c>/health</c> through it.</summary>
    private static IResourceBuilder<ExecutableResource> AddNginxLoadBalancer(
        this IDistributedApplicationBuilder builder, string name, LocalRun local, IReadOnlyList<IResourceBuilder<ProjectResource>> replicas)
    {
        var nginx = Prerequisites.EnsureNginxAsync(Console.Error.WriteLine, CancellationToken.None).GetAwaiter().GetResult();
        var prefix = Path.Combine(local.State.Root, "nginx");
        StopStale(Path.Combine(prefix, "nginx.pid"));
        var temporary = Directory.CreateDirectory(Path.Combine(prefix, "temp")).FullName;
        if (!OperatingSystem.IsWindows())
        {
            // Run as root, nginx's workers drop to an unprivileged user; they buffer large bodies here.
            File.SetUnixFileMode(temporary, (UnixFileMode)0b111_111_111);
        }

        var config = Path.Combine(prefix, "nginx.conf");
        LocalState.WriteAtomically(config, Configuration(prefix, temporary, local.ApiPort, local.ApiReplicaPorts));
        var balancer = builder.AddExecutable(name, nginx, prefix, "-p", prefix, "-c", config, "-e", "stderr")
            .WithHttpEndpoint(name: "http", port: local.ApiPort, targetPort: local.ApiPort, isProxied: false)
            .WithExternalHttpEndpoints()
            .WithHttpHealthCheck("/health")
            .WithIconName("ArrowSplit")
            .ExcludeFromManifest();
        foreach (var replica in replicas)
        {
            balancer.WaitFor(replica);
        }

        return balancer;
    }

    /// <summary>The nginx configuration: one worker, no access log, every request passed on as it came.</summary>
    internal static string Configuration(string prefix, string temporary, int port, IReadOnlyList<int> replicaPorts)
    {
        var upstream = new StringBuilder();
        foreach (var replica in replicaPorts)
        {
            upstream.Append(CultureInfo.InvariantCulture, $"    server 127.0.0.1:{replica} max_fails=1 fail_timeout={FailTimeoutSeconds}s;\n");
        }

        // One worker: on a small machine the replicas need the cores more than the balancer does. The API reads
        // X-Forwarded-Proto/-Host itself and builds URLs from the Host header, so both reach it unchanged, and an
        // X-Accel-Redirect from the playback API goes back to the client as it would without the balancer (the
        // web server in front of everything serves the recording files).
        return string.Create(CultureInfo.InvariantCulture, $$"""
            # Written by the AppHost at each start: the load balancer in front of the API's replicas.
            worker_processes 1;
            daemon off;
            pid {{prefix}}/nginx.pid;
            error_log stderr warn;
            events { worker_connections 4096; }
            http {
              access_log off;
              client_body_temp_path {{temporary}}/body;
              proxy_temp_path {{temporary}}/proxy;
              fastcgi_temp_path {{temporary}}/fastcgi;
              uwsgi_temp_path {{temporary}}/uwsgi;
              scgi_temp_path {{temporary}}/scgi;
              client_max_body_size 64m;
              upstream api {
            {{upstream}}    keepalive 64;
              }
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://api;
                  proxy_http_version 1.1;
                  proxy_set_header Connection "";
                  proxy_set_header Host $http_host;
                  proxy_connect_timeout 2s;
                  proxy_read_timeout 300s;
                  proxy_next_upstream error timeout;
                  proxy_ignore_headers X-Accel-Redirect X-Accel-Expires X-Accel-Limit-Rate X-Accel-Buffering X-Accel-Charset;
                  proxy_pass_header X-Accel-Redirect;
                  proxy_pass_header Server;
                  proxy_pass_header Date;
                }
              }
            }

            """);
    }

    /// <summary>An nginx that a killed earlier run left on this state directory would hold the API's port.</summary>
    private static void StopStale(string pidFile)
    {
        if (ProcessUtilities.ReadPidFile(pidFile) is int pid && ProcessUtilities.IsAlive(pid)
            && ProcessUtilities.CommandLine(pid).Contains("nginx", StringComparison.Ordinal))
        {
            ProcessUtilities.TerminateAsync(pid, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        }
    }
}
