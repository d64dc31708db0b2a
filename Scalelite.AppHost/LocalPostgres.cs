using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scalelite.LocalServers;

namespace Aspire.Hosting;

/// <summary>PostgreSQL run from this machine's server binaries, as an executable resource DCP starts and stops.</summary>
public sealed class LocalPostgresResource(string name, string command)
    : ExecutableResource(name, command, "/"), IResourceWithConnectionString
{
    internal EndpointReference Endpoint => new(this, "tcp");

    /// <summary>Databases to create once the server answers, by resource name.</summary>
    internal List<LocalPostgresDatabaseResource> Databases { get; } = [];

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"Host=127.0.0.1;Port={Endpoint.Property(EndpointProperty.Port)};Username={PostgresServer.ServerUser}");
}

/// <summary>A database of a <see cref="LocalPostgresResource"/>; it is Running once it has been created.</summary>
public sealed class LocalPostgresDatabaseResource(string name, LocalPostgresResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresResource>, IResourceWithConnectionString
{
    public LocalPostgresResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={Name}");
}

/// <summary>PostgreSQL from the local binaries (<c>/usr/lib/postgresql/*/bin</c>) where no container runtime answers.</summary>
/// <remarks>
/// Three resources: a one-shot <c>NAME-init</c> (initdb when the data directory is new), the server itself (awaited
/// initdb with WaitForCompletion, on an unproxied port Aspire allocates, healthy once it accepts connections), and the
/// databases, created when the server is ready. PostgreSQL refuses to run as root, so as root both run as user
/// postgres through setpriv, which execs in place: DCP's stop signal reaches the postmaster itself. The AppHost's own
/// connections are not pooled: an idle one would hold up PostgreSQL's (smart) shutdown at stop.
/// </remarks>
public static class LocalPostgresExtensions
{
    public static IResourceBuilder<LocalPostgresResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string dataDirectory, Action<string>? notice = null)
    {
        // A fresh machine may lack the server programs: they are installed with apt-get, with a notice.
        var bin = Prerequisites.EnsurePostgresBinDirectoryAsync(notice, CancellationToken.None).GetAwaiter().GetResult();
        var data = Path.GetFullPath(dataDirectory);
        // A server that a killed earlier run left on the same data directory would hold its lock file.
        PostgresServer.StopStaleAsync(data).GetAwaiter().GetResult();
        Directory.CreateDirectory(data);
        PostgresServer.HandToServerUserAsync(CancellationToken.None, data).GetAwaiter().GetResult();

        // initdb only for a new data directory; a kept cluster is reused as it is.
        var (initCommand, initArgs) = AsServerUser("sh",
            ["-c", "test -f \"$1/PG_VERSION\" && exit 0; shift; exec \"$@\"", "sh", data, Path.Combine(bin, "initdb"), .. PostgresServer.InitDbArguments(data, throwaway: false)]);
        var init = builder.AddExecutable(name + "-init", initCommand, "/", [.. initArgs])
            .WithIconName("DatabaseArrowUp")
            .ExcludeFromManifest();

        var (command, serverUserArgs) = AsServerUser(Path.Combine(bin, "postgres"), []);
        var server = new LocalPostgresResource(name, command);
        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, ct) =>
        {
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            await using var connection = new NpgsqlConnection(connectionString + ";Database=postgres;Pooling=false");
            await connection.OpenAsync(ct);
            foreach (var database in server.Databases)
            {
                await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = database.Name } } };
                if (await exists.ExecuteScalarAsync(ct) is null)
                {
                    await using var create = new NpgsqlCommand($"create database \"{database.Name}\"", connection);
                    await create.ExecuteNonQueryAsync(ct);
                }

                await notifications.PublishUpdateAsync(database, s => s with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                });
            }
        });

        var healthCheck = name + "_check";
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => (connectionString ?? throw new InvalidOperationException("The connection string is not known yet.")) + ";Database=postgres;Pooling=false",
            name: healthCheck);

        return builder.AddResource(server)
            .WithEndpoint(name: "tcp", scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var arg in serverUserArgs)
                {
                    context.Args.Add(arg);
                }

                context.Args.Add("-D");
                context.Args.Add(data);
                context.Args.Add("-p");
                context.Args.Add(server.Endpoint.Property(EndpointProperty.Port));
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=127.0.0.1");
                // TCP only: no socket file in a directory the postgres user may not own.
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
            })
            .WaitForCompletion(init)
            .WithHealthCheck(healthCheck)
            .WithIconName("DatabaseMultiple")
            .ExcludeFromManifest();
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresResource> builder, [ResourceName] string name)
    {
        var database = new LocalPostgresDatabaseResource(name, builder.Resource);
        builder.Resource.Databases.Add(database);
        string? connectionString = null;
        builder.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct));
        var healthCheck = name + "_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().AddNpgSql(
            _ => (connectionString ?? throw new InvalidOperationException("The connection string is not known yet.")) + ";Pooling=false", name: healthCheck);
        return builder.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.Waiting,
                Properties = [],
            })
            .WithHealthCheck(healthCheck)
            .WithIconName("Database")
            .ExcludeFromManifest();
    }

    /// <summary>As root, <paramref name="command"/> through <c>setpriv</c> as the postgres user (it execs in place); otherwise unchanged.</summary>
    private static (string Command, string[] Args) AsServerUser(string command, string[] args)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return (command, args);
        }

        var setpriv = Prerequisites.FindOnPath("setpriv") ?? throw new InvalidOperationException("setpriv (util-linux) is needed to run PostgreSQL as user postgres.");
        return (setpriv, [$"--reuid={PostgresServer.ServerUser}", $"--regid={PostgresServer.ServerUser}", "--init-groups", "--", command, .. args]);
    }
}
