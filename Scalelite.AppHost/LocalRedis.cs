using Microsoft.Extensions.DependencyInjection;
using Scalelite.LocalServers;

namespace Aspire.Hosting;

/// <summary>Redis run from this machine's <c>redis-server</c>, as an executable resource DCP starts and stops.</summary>
public sealed class LocalRedisResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal EndpointReference Endpoint => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"127.0.0.1:{Endpoint.Property(EndpointProperty.Port)}");
}

/// <summary>Redis from the local binary where no container runtime answers (installed with apt-get when missing).</summary>
/// <remarks>
/// No persistence: Redis only holds state derived from PostgreSQL and the servers, rebuilt after a restart. It runs in
/// the foreground so its log is the resource's console log, on an unproxied port Aspire allocates, healthy once it
/// answers PING.
/// </remarks>
public static class LocalRedisExtensions
{
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string directory, Action<string>? notice = null)
    {
        var program = Prerequisites.EnsureRedisServerAsync(notice, CancellationToken.None).GetAwaiter().GetResult();
        var dir = Path.GetFullPath(directory);
        RedisServer.StopStaleAsync(dir).GetAwaiter().GetResult();
        Directory.CreateDirectory(dir);

        var redis = new LocalRedisResource(name, program, dir);
        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct));
        var healthCheck = name + "_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("The connection string is not known yet."), name: healthCheck);

        return builder.AddResource(redis)
            .WithEndpoint(name: "tcp", scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(redis.Endpoint.Property(EndpointProperty.Port));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--save");
                context.Args.Add("");
                context.Args.Add("--appendonly");
                context.Args.Add("no");
                context.Args.Add("--dir");
                context.Args.Add(dir);
            })
            .WithHealthCheck(healthCheck)
            .WithIconName("Memory")
            .ExcludeFromManifest();
    }
}
