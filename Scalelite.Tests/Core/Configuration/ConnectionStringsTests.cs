using Microsoft.Extensions.Configuration;
using Scalelite.Core.Configuration;

namespace Scalelite.Tests.Core.Configuration;

public class ConnectionStringsTests
{
    [Fact]
    public void FromPostgresUrl_ConvertsToKeywords() =>
        Assert.Equal("Host=db.example.com;Port=5433;Username=scalelite;Password=p@ss;Database=scalelite_prod;SSL Mode=require",
            ConnectionStrings.FromPostgresUrl("postgres://scalelite:p%40ss@db.example.com:5433/scalelite_prod?sslmode=require"));

    [Fact]
    public void FromPostgresUrl_KeywordStringPassesThrough() =>
        Assert.Equal("Host=x;Database=y", ConnectionStrings.FromPostgresUrl("Host=x;Database=y"));

    [Fact]
    public void FromRedisUrl_ConvertsToConfiguration() =>
        Assert.Equal("cache:6380,password=pw,defaultDatabase=2", ConnectionStrings.FromRedisUrl("redis://:pw@cache:6380/2"));

    [Fact]
    public void ScaleliteNames_MapOntoOurKeys_AndOurKeysWin()
    {
        var env = new Dictionary<string, string> { ["POLL_INTERVAL"] = "7", ["SERVER_UNHEALTHY_THRESHOLD"] = "4" };
        var config = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Poller:UnhealthyThreshold"] = "9" })
            .AddScaleliteEnvironment(name => env.GetValueOrDefault(name))
            .Build();
        Assert.Equal("7", config["Poller:Interval"]);
        Assert.Equal("9", config["Poller:UnhealthyThreshold"]);
    }
}
