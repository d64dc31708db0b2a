using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Coordination;
using Scalelite.Core.Monitoring.Canary;
using Scalelite.Poller.Leadership;

namespace Scalelite.Tests.Poller.Leadership;

public sealed class PoolLeadershipTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddCanary_WithPollerLeadership_TheCanaryAsksTheElectionWhateverTheOrder(bool canaryFirst)
    {
        var services = Services();
        if (canaryFirst)
        {
            services.AddCanary().AddPollerLeadership();
        }
        else
        {
            services.AddPollerLeadership().AddCanary();
        }

        await using var provider = services.BuildServiceProvider();

        var leadership = provider.GetRequiredService<IPoolLeadership>();
        Assert.Same(provider.GetRequiredService<PollerLeadership>(), leadership);
        Assert.False(leadership.IsLeading);   // a Poller follows until it holds the lock
    }

    [Fact]
    public void AddCanary_WithoutAnElection_IsTheSoleInstanceAndLeads()
    {
        using var provider = Services().AddCanary().BuildServiceProvider();

        Assert.True(provider.GetRequiredService<IPoolLeadership>().IsLeading);
    }

    private static ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton(TimeProvider.System);
        services.AddLogging(l => l.ClearProviders());
        services.AddOptions();
        return services;
    }
}
