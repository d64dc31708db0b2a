using Scalelite.AppHost;

namespace Aspire.Hosting;

/// <summary>
/// PostgreSQL and Redis in the same roles whether they run as Aspire's container resources or from this machine's
/// binaries: either way the services receive <c>ConnectionStrings__scalelite</c> and <c>ConnectionStrings__redis</c>.
/// </summary>
public static class InfrastructureExtensions
{
    /// <summary>
    /// PostgreSQL with the database <paramref name="database"/>: <c>AddPostgres(...).WithDataVolume()</c> when published or
    /// when a container runtime answers, otherwise <see cref="LocalPostgresExtensions.AddLocalPostgres"/> under the state directory.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddScaleliteDatabase(
        this IDistributedApplicationBuilder builder, [ResourceName] string server, [ResourceName] string database, LocalRun? local) =>
        local is null || local.Containers
            ? builder.AddPostgres(server).WithDataVolume().AddDatabase(database)
            : builder.AddLocalPostgres(server, local.State.PostgresData, Console.Error.WriteLine).AddDatabase(database);

    /// <summary>Redis: <c>AddRedis(...)</c> when published or when a container runtime answers, otherwise the local redis-server.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddScaleliteRedis(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, LocalRun? local) =>
        local is null || local.Containers
            ? builder.AddRedis(name)
            : builder.AddLocalRedis(name, local.State.Redis, Console.Error.WriteLine);
}
