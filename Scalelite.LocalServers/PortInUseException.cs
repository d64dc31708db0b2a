namespace Scalelite.LocalServers;

/// <summary>A server could not start because something else on the machine holds its port.</summary>
public sealed class PortInUseException(int port, string message) : InvalidOperationException(message)
{
    public int Port { get; } = port;

    /// <summary>The words PostgreSQL and Redis both log (from strerror) when their listening socket cannot be bound.</summary>
    internal static bool IsBindFailure(string log) => log.Contains("Address already in use", StringComparison.Ordinal);
}
