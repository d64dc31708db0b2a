using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Scalelite.LocalServers;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// The whole application with multitenancy on, as an operator would switch it on in the AppHost's services: tenants
/// by host under <see cref="UrlHost"/> (the API's port appended), tenants by path, and the bare host serving the
/// default tenant (so that the AppHost's own registration of the simulators works as before).
/// </summary>
public sealed class MultitenantAppFixture : ScaleliteAppFixture
{
    public const string UrlHost = "lb.localhost";

    /// <summary>The API's port, chosen here so that URL_HOST can name it.</summary>
    public int ApiPort { get; } = FreePort.Next();

    protected override IEnumerable<string> ExtraArgs => ["--api-port", ApiPort.ToString(CultureInfo.InvariantCulture)];

    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var service in new[] { "api", "poller", "recordingsync" })
        {
            Project(builder, service)
                .WithEnvironment("MULTITENANCY_ENABLED", "true")
                .WithEnvironment("URL_HOST", $"{UrlHost}:{ApiPort.ToString(CultureInfo.InvariantCulture)}")
                .WithEnvironment("Tenancy__DefaultTenant", "true");
        }
    }
}

/// <summary>End-to-end tests of the multitenant topology; on their own, as the other topology tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultitenantTopologyCollection : ICollectionFixture<MultitenantAppFixture>
{
    public const string Name = "multitenant-topology";
}
