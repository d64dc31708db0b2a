using System.Text.RegularExpressions;
using System.Xml.Linq;
using k8s;
using k8s.Models;
using Scalelite.Core.Recordings;
using Microsoft.Extensions.Hosting;
using Scalelite.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Scalelite.Tests.Deploy;

/// <summary>
/// deploy/kubernetes, loaded with the Kubernetes client's own typed objects (unknown fields refused), checked against
/// the code it deploys: probe paths and ports, settings, replicas.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    /// <summary>
    /// How many replicas each Deployment runs, and why that many is safe. A count above one is only right because of
    /// the reason named here; changing a manifest's replicas without this table fails the test.
    /// </summary>
    private static readonly Dictionary<string, ReplicaRule> Replicas = new(StringComparer.Ordinal)
    {
        ["api"] = new(2, Autoscaled: true, "stateless: Redis holds the shared state and the owner cache is invalidated through a channel"),
        ["poller"] = new(2, Autoscaled: false, "leader election over PostgreSQL: exactly one replica polls, the other takes over when it goes"),
        ["recordingsync"] = new(2, Autoscaled: false, "archive claims: an instance claims an archive by an atomic rename, so each is imported once"),
        ["web"] = new(2, Autoscaled: false, "stateless nginx reading the recording volume"),
        ["redis"] = new(1, Autoscaled: false, "derived state only, rebuilt by the next poll: one instance without persistence"),
    };

    /// <summary>Our services: Deployment name and project.</summary>
    private static readonly Dictionary<string, string> Services = new(StringComparer.Ordinal)
    {
        ["api"] = "Scalelite.Api",
        ["poller"] = "Scalelite.Poller",
        ["recordingsync"] = "Scalelite.RecordingSync",
    };

    private static readonly string Root = Repository.Path("deploy", "kubernetes");

    private static readonly string[] Overlays = [.. Directory.GetDirectories(Path.Combine(Root, "overlays")).Order(StringComparer.Ordinal)];

    private sealed record ReplicaRule(int Count, bool Autoscaled, string Reason);

    [Fact]
    public void Manifests_EveryFile_LoadsStrictlyAndIsPartOfAKustomization()
    {
        var used = new HashSet<string>(StringComparer.Ordinal) { Path.Combine(Root, "base", "kustomization.yaml") };
        foreach (var overlay in Overlays)
        {
            used.Add(Path.Combine(overlay, "kustomization.yaml"));
            var objects = Load(overlay, used);
            Assert.NotEmpty(objects);
            Assert.All(objects, o => Assert.False(string.IsNullOrEmpty(o.Metadata?.Name), $"{o.Kind} without a name in {overlay}"));
            var duplicates = objects.GroupBy(o => (o.Kind, o.Metadata.Name)).Where(g => g.Count() > 1).Select(g => g.Key);
            Assert.Empty(duplicates);
        }

        var files = Directory.GetFiles(Root, "*.yaml", SearchOption.AllDirectories);
        Assert.Empty(files.Where(f => !used.Contains(f)).Select(f => Path.GetRelativePath(Root, f)));
    }

    [Fact]
    public void Load_UnknownField_IsRefused()
    {
        const string Misspelt = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: x
            spec:
              replica: 2
            """;
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Misspelt, strict: true));
    }

    [Fact]
    public void Probes_ServiceDeployments_UseTheServicesOwnPathsPortsAndImages()
    {
        foreach (var overlay in Overlays)
        {
            var objects = Load(overlay);
            foreach (var (name, project) in Services)
            {
                var csproj = XDocument.Load(Repository.Path(project, project + ".csproj"));
                var port = int.Parse(Property(csproj, "ContainerHttpPort"), System.Globalization.CultureInfo.InvariantCulture);
                var container = Assert.Single(Deployment(objects, name).Spec.Template.Spec.Containers);

                Assert.Equal(Property(csproj, "ContainerRepository"), container.Image);
                var http = Assert.Single(container.Ports);
                Assert.Equal(port, http.ContainerPort);
                foreach (var (probe, path) in new[]
                {
                    (container.StartupProbe, ServiceDefaultsExtensions.AlivePath),
                    (container.LivenessProbe, ServiceDefaultsExtensions.AlivePath),
                    (container.ReadinessProbe, ServiceDefaultsExtensions.HealthPath),
                })
                {
                    Assert.NotNull(probe?.HttpGet);
                    Assert.Equal(path, probe.HttpGet.Path);
                    Assert.Equal(http.Name, probe.HttpGet.Port.Value);
                }

                var service = Assert.Single(objects.OfType<V1Service>(), s => s.Metadata.Name == name);
                Assert.Equal(http.Name, Assert.Single(service.Spec.Ports).TargetPort.Value);
                Assert.Equal(name, service.Spec.Selector["app.kubernetes.io/name"]);
            }

            Assert.All(objects.OfType<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers), c =>
            {
                Assert.True(c.Resources?.Requests?.ContainsKey("cpu") == true && c.Resources.Requests.ContainsKey("memory"), $"{c.Name} requests");
                Assert.True(c.Resources.Limits?.ContainsKey("memory") == true, $"{c.Name} memory limit");
                Assert.True(c.LivenessProbe is not null && c.ReadinessProbe is not null, $"{c.Name} probes");
            });
        }
    }

    [Fact]
    public void EnvironmentVariables_EveryManifest_AreSettingsTheConfigurationDocumentLists()
    {
        var documented = Backticked().Matches(File.ReadAllText(Repository.Path("docs", "configuration.md")))
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var overlay in Overlays)
        {
            var objects = Load(overlay);
            var names = new List<string>();
            names.AddRange(Assert.Single(objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "scalelite-settings").Data.Keys);
            names.AddRange(objects.OfType<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers).SelectMany(c => c.Env ?? []).Select(e => e.Name));
            names.AddRange(File.ReadAllLines(Path.Combine(overlay, "secrets.env.example")).Where(l => l.Contains('=', StringComparison.Ordinal)).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]));
            names.AddRange(PatchedEnvironment(overlay));

            Assert.Empty(names.Where(n => !documented.Contains(n)).Select(n => $"{Path.GetFileName(overlay)}: {n}"));
            Assert.Contains(names, n => n is "LOADBALANCER_SECRET" or "Scalelite__Secrets");
            Assert.Contains(names, n => n is "DATABASE_URL" or "ConnectionStrings__scalelite");
            Assert.Contains(names, n => n is "REDIS_URL" or "ConnectionStrings__redis");

            // Every service gets the settings and the secret the overlay generates.
            foreach (var name in Services.Keys)
            {
                var from = Assert.Single(Deployment(objects, name).Spec.Template.Spec.Containers).EnvFrom;
                Assert.Contains(from, f => f.ConfigMapRef?.Name == "scalelite-settings");
                Assert.Contains(from, f => f.SecretRef?.Name == "scalelite-secrets");
            }

            Assert.Contains("name: scalelite-secrets", File.ReadAllText(Path.Combine(overlay, "kustomization.yaml")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Replicas_EveryDeployment_AgreeWithPodDisruptionBudgetsAutoscalersAndTheirReason()
    {
        foreach (var overlay in Overlays)
        {
            var objects = Load(overlay);
            var budgets = objects.OfType<V1PodDisruptionBudget>().ToList();
            var autoscalers = objects.OfType<V2HorizontalPodAutoscaler>().ToList();
            foreach (var deployment in objects.OfType<V1Deployment>())
            {
                var name = deployment.Metadata.Name;
                Assert.True(Replicas.TryGetValue(name, out var rule), $"{name}: no replica rule; add one naming why its count is safe");
                Assert.False(string.IsNullOrWhiteSpace(rule.Reason));
                Assert.True(rule.Count == deployment.Spec.Replicas, $"{name}: {deployment.Spec.Replicas} replicas, the rule says {rule.Count} ({rule.Reason})");

                var labels = deployment.Spec.Template.Metadata.Labels;
                Assert.Equal(deployment.Spec.Selector.MatchLabels, labels.Where(l => deployment.Spec.Selector.MatchLabels.ContainsKey(l.Key)).ToDictionary());
                var budget = budgets.Where(b => b.Spec.Selector.MatchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
                if (rule.Count > 1)
                {
                    // A budget that lets one pod go at a time: node drains proceed, and one replica always serves.
                    var only = Assert.Single(budget);
                    Assert.True(only.Spec.MinAvailable?.Value == "1" || only.Spec.MaxUnavailable?.Value == "1", $"{name}: budget");
                }
                else
                {
                    // A budget on a single replica would block every node drain.
                    Assert.Empty(budget);
                }

                var autoscaler = autoscalers.Where(h => h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == name).ToList();
                if (rule.Autoscaled)
                {
                    var only = Assert.Single(autoscaler);
                    Assert.Equal(rule.Count, only.Spec.MinReplicas);
                    Assert.True(only.Spec.MaxReplicas > rule.Count);
                }
                else
                {
                    Assert.Empty(autoscaler);
                }
            }

            Assert.DoesNotContain(Replicas.Keys, k => Services.ContainsKey(k) && !objects.OfType<V1Deployment>().Any(d => d.Metadata.Name == k));
            Assert.Contains("leader election", File.ReadAllText(Path.Combine(Root, "base", "poller.yaml")), StringComparison.Ordinal);
            Assert.Contains("claims", File.ReadAllText(Path.Combine(Root, "base", "recordingsync.yaml")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ingress_EveryPath_GoesThroughTheWebServerThatKeepsTheRecordingLocationInternal()
    {
        var internalLocation = new RecordingOptions().InternalLocation;
        foreach (var overlay in Overlays)
        {
            var objects = Load(overlay);
            var paths = objects.OfType<V1Ingress>().SelectMany(i => i.Spec.Rules).SelectMany(r => r.Http.Paths).ToList();
            Assert.NotEmpty(paths);
            Assert.All(paths, p => Assert.Equal("web", p.Backend.Service.Name));
            Assert.DoesNotContain(paths, p => p.Path.StartsWith(internalLocation, StringComparison.Ordinal));

            var nginx = Assert.Single(objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "web-nginx").Data;
            Assert.Equal(File.ReadAllText(Repository.Path("deploy", "nginx", "scalelite-recordings.conf")), nginx["scalelite-recordings.conf"]);
            Assert.Matches($@"location {Regex.Escape(internalLocation)}/ \{{\s*internal;", nginx["scalelite-recordings.conf"]);
            Assert.Contains("include /etc/nginx/scalelite/scalelite-recordings.conf;", nginx["default.conf"], StringComparison.Ordinal);

            // The recording volume: shared by the writers and the web server.
            var claim = Assert.Single(objects.OfType<V1PersistentVolumeClaim>(), c => c.Metadata.Name == "recordings");
            Assert.Contains("ReadWriteMany", claim.Spec.AccessModes);
            var publishDir = Assert.Single(objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "scalelite-settings").Data["RECORDING_PUBLISH_DIR"];
            foreach (var (name, readOnly) in new[] { ("api", false), ("recordingsync", false), ("web", true) })
            {
                var spec = Deployment(objects, name).Spec.Template.Spec;
                var volume = Assert.Single(spec.Volumes, v => v.PersistentVolumeClaim?.ClaimName == "recordings");
                var mount = Assert.Single(spec.Containers.SelectMany(c => c.VolumeMounts ?? []), m => m.Name == volume.Name);
                Assert.StartsWith(mount.MountPath + "/", publishDir, StringComparison.Ordinal);
                Assert.Equal(readOnly, mount.ReadOnlyProperty ?? false);
            }
        }
    }

    private static V1Deployment Deployment(List<IKubernetesObject<V1ObjectMeta>> objects, string name) =>
        Assert.Single(objects.OfType<V1Deployment>(), d => d.Metadata.Name == name);

    private static string Property(XDocument project, string name) =>
        project.Descendants(name).Single().Value;

    /// <summary>
    /// The objects a kustomization names (its resources, recursively through bases), each file loaded strictly. Patches
    /// are not applied: the tests read them on their own (<see cref="PatchedEnvironment"/>).
    /// </summary>
    private static List<IKubernetesObject<V1ObjectMeta>> Load(string directory, HashSet<string>? used = null)
    {
        var kustomization = ReadYaml(Path.Combine(directory, "kustomization.yaml"));
        var objects = new List<IKubernetesObject<V1ObjectMeta>>();
        foreach (var entry in Sequence(kustomization, "resources"))
        {
            var path = Path.GetFullPath(Path.Combine(directory, entry));
            if (Directory.Exists(path))
            {
                used?.Add(Path.Combine(path, "kustomization.yaml"));
                objects.AddRange(Load(path, used));
                continue;
            }

            used?.Add(path);
            var text = File.ReadAllText(path);
            var typeMap = text.Contains("apiVersion: postgresql.cnpg.io/v1", StringComparison.Ordinal) ? CloudNativePgCluster.TypeMap : null;
            objects.AddRange(KubernetesYaml.LoadAllFromString(text, typeMap, strict: true).Cast<IKubernetesObject<V1ObjectMeta>>());
        }

        if (kustomization.Children.TryGetValue(new YamlScalarNode("patches"), out var patches))
        {
            foreach (var patch in ((YamlSequenceNode)patches).Children.Cast<YamlMappingNode>())
            {
                used?.Add(Path.GetFullPath(Path.Combine(directory, ((YamlScalarNode)patch.Children[new YamlScalarNode("path")]).Value!)));
            }
        }

        return objects;
    }

    /// <summary>The variables the overlay's JSON patches add to containers.</summary>
    private static IEnumerable<string> PatchedEnvironment(string overlay)
    {
        var kustomization = ReadYaml(Path.Combine(overlay, "kustomization.yaml"));
        if (!kustomization.Children.TryGetValue(new YamlScalarNode("patches"), out var patches))
        {
            yield break;
        }

        foreach (var patch in ((YamlSequenceNode)patches).Children.Cast<YamlMappingNode>())
        {
            var stream = new YamlStream();
            using var reader = new StreamReader(Path.Combine(overlay, ((YamlScalarNode)patch.Children[new YamlScalarNode("path")]).Value!));
            stream.Load(reader);
            foreach (var operation in ((YamlSequenceNode)stream.Documents[0].RootNode).Children.Cast<YamlMappingNode>())
            {
                var target = ((YamlScalarNode)operation.Children[new YamlScalarNode("path")]).Value!;
                Assert.EndsWith("/env", target, StringComparison.Ordinal);
                foreach (var variable in ((YamlSequenceNode)operation.Children[new YamlScalarNode("value")]).Children.Cast<YamlMappingNode>())
                {
                    yield return ((YamlScalarNode)variable.Children[new YamlScalarNode("name")]).Value!;
                }
            }
        }
    }

    private static YamlMappingNode ReadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static IEnumerable<string> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value)
            ? ((YamlSequenceNode)value).Children.Select(c => ((YamlScalarNode)c).Value!)
            : [];

    [GeneratedRegex("`([A-Za-z_][A-Za-z0-9_]*)`")]
    private static partial Regex Backticked();

    /// <summary>The fields of CloudNativePG's <c>Cluster</c> our overlay uses; anything else in it is refused like an unknown field.
    /// The loader names a field by camel-casing the property's name.</summary>
    private sealed class CloudNativePgCluster : IKubernetesObject<V1ObjectMeta>
    {
        public static readonly Dictionary<string, Type> TypeMap = new(StringComparer.Ordinal) { ["postgresql.cnpg.io/v1/Cluster"] = typeof(CloudNativePgCluster) };

        public string ApiVersion { get; set; } = "";

        public string Kind { get; set; } = "";

        public V1ObjectMeta Metadata { get; set; } = new();

        public ClusterSpec Spec { get; set; } = new();

        public sealed class ClusterSpec
        {
            public int Instances { get; set; }

            public StorageSpec Storage { get; set; } = new();

            public BootstrapSpec Bootstrap { get; set; } = new();
        }

        public sealed class StorageSpec
        {
            public string Size { get; set; } = "";

            public string? StorageClass { get; set; }
        }

        public sealed class BootstrapSpec
        {
            public InitDbSpec Initdb { get; set; } = new();
        }

        public sealed class InitDbSpec
        {
            public string Database { get; set; } = "";

            public string Owner { get; set; } = "";
        }
    }
}
