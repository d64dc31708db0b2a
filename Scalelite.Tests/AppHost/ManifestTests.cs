using System.Text.Json;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.AppHost;

/// <summary>The manifest azd deploys from, as <c>dotnet run --project Scalelite.AppHost -- --publisher manifest</c> writes it.</summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task PublishManifest_Topology_HasServicesDatabaseRedisReferencesAndRecordingVolume()
    {
        var resources = (await PublishAsync()).GetProperty("resources");

        Assert.Equal("container.v0", resources.GetProperty("postgres").GetProperty("type").GetString());
        Assert.Contains("postgres", resources.GetProperty("postgres").GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.NotEmpty(resources.GetProperty("postgres").GetProperty("volumes").EnumerateArray());
        // The database: a connection string derived from the server's.
        Assert.Equal("value.v0", resources.GetProperty("scalelite").GetProperty("type").GetString());
        Assert.Equal("{postgres.connectionString};Database=scalelite", resources.GetProperty("scalelite").GetProperty("connectionString").GetString());
        Assert.Equal("container.v0", resources.GetProperty("redis").GetProperty("type").GetString());
        Assert.True(resources.GetProperty("loadbalancer-secret").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());

        foreach (var (name, project) in new[] { ("api", "Scalelite.Api"), ("poller", "Scalelite.Poller"), ("recordingsync", "Scalelite.RecordingSync") })
        {
            var service = resources.GetProperty(name);
            Assert.Equal("project.v0", service.GetProperty("type").GetString());
            Assert.EndsWith($"{project}/{project}.csproj", service.GetProperty("path").GetString(), StringComparison.Ordinal);
            var env = service.GetProperty("env");
            Assert.Equal("{scalelite.connectionString}", env.GetProperty("ConnectionStrings__scalelite").GetString());
            Assert.Equal("{redis.connectionString}", env.GetProperty("ConnectionStrings__redis").GetString());
            Assert.Equal("{loadbalancer-secret.value}", env.GetProperty("LOADBALANCER_SECRET").GetString());
            Assert.True(service.GetProperty("bindings").TryGetProperty("http", out _), $"{name} has an http binding");
        }

        Assert.True(resources.GetProperty("api").GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());
        foreach (var name in new[] { "api", "recordingsync" })
        {
            var volume = Assert.Single(resources.GetProperty(name).GetProperty("volumes").EnumerateArray());
            Assert.Equal("recordings", volume.GetProperty("name").GetString());
            Assert.Equal("/var/bigbluebutton", volume.GetProperty("target").GetString());
        }

        // The local helpers are not deployed.
        var names = resources.EnumerateObject().Select(r => r.Name).ToList();
        Assert.DoesNotContain("simulators", names);
        Assert.DoesNotContain("register-simulators", names);
        Assert.DoesNotContain(names, n => n.StartsWith("sim-", StringComparison.Ordinal));
    }

    private static async Task<JsonElement> PublishAsync()
    {
        var output = Path.Combine(TestInfrastructure.RunDirectory, $"manifest-{Guid.NewGuid():N}"[..17], "aspire-manifest.json");
        var (code, log) = await AppHostProcess.RunToEndAsync(["--publisher", "manifest", "--output-path", output], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, log);
        return JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement.Clone();
    }
}
