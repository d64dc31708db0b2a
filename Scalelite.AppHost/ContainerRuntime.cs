using Scalelite.LocalServers;

namespace Scalelite.AppHost;

/// <summary>Whether a container runtime answers here, so PostgreSQL and Redis can run as Aspire's own container resources.</summary>
public static class ContainerRuntime
{
    /// <summary>
    /// True when <c>docker info</c> (or <c>podman info</c>, or the runtime named by <c>ASPIRE_CONTAINER_RUNTIME</c>)
    /// succeeds. A client without a daemon, as on many laptops and CI machines, does not count.
    /// </summary>
    public static bool Answers()
    {
        var configured = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME") ?? Environment.GetEnvironmentVariable("DOTNET_ASPIRE_CONTAINER_RUNTIME");
        string[] candidates = configured is { Length: > 0 } ? [configured] : ["docker", "podman"];
        foreach (var runtime in candidates)
        {
            if (Prerequisites.FindOnPath(runtime) is not { } program)
            {
                continue;
            }

            try
            {
                if (CommandRunner.RunAsync(program, ["info"], CancellationToken.None, timeout: TimeSpan.FromSeconds(15)).GetAwaiter().GetResult().Succeeded)
                {
                    return true;
                }
            }
            catch (TimeoutException)
            {
                // A daemon that does not answer within seconds cannot start a database either.
            }
        }

        return false;
    }
}
