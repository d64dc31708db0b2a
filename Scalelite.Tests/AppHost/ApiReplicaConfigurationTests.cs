using Aspire.Hosting;

namespace Scalelite.Tests.AppHost;

public sealed class ApiReplicaConfigurationTests
{
    [Fact]
    public void Configuration_ThreeReplicas_ListensOnTheApiPortAndSpreadsOverEveryReplica()
    {
        var config = ApiReplicaExtensions.Configuration("/state/nginx", "/state/nginx/temp", 8090, [9001, 9002, 9003]);

        Assert.Contains("listen 127.0.0.1:8090;", config, StringComparison.Ordinal);
        foreach (var port in new[] { 9001, 9002, 9003 })
        {
            Assert.Contains($"server 127.0.0.1:{port} ", config, StringComparison.Ordinal);
        }

        // Keep-alive to the replicas, the Host header passed on, and a failed replica's requests retried elsewhere.
        Assert.Contains("keepalive ", config, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header Connection \"\";", config, StringComparison.Ordinal);
        Assert.Contains("proxy_set_header Host $http_host;", config, StringComparison.Ordinal);
        Assert.Contains("proxy_next_upstream error timeout;", config, StringComparison.Ordinal);
        Assert.Contains("pid /state/nginx/nginx.pid;", config, StringComparison.Ordinal);
        Assert.Equal(config.Count(c => c == '{'), config.Count(c => c == '}'));
    }
}
