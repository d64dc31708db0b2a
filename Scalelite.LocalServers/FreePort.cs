using System.Net;
using System.Net.Sockets;

namespace Scalelite.LocalServers;

/// <summary>Finds TCP ports on 127.0.0.1 that nobody listens on.</summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];
    private static readonly Lock Gate = new();

    /// <summary>
    /// Binds port 0, reads the port the kernel chose and releases it. A port is never handed out twice by this
    /// process, so parallel callers do not race each other for the same one.
    /// </summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Gate)
            {
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
        throw new InvalidOperationException("Could not find a free TCP port on 127.0.0.1.");
    }

    /// <summary>Returns <paramref name="preferred"/> when it can be bound now, otherwise a fresh free port.</summary>
    public static int PreferOrNext(int? preferred)
    {
        if (preferred is int port && IsFree(port))
        {
            lock (Gate)
            {
                Handed.Add(port);
            }
            return port;
        }
        return Next();
    }

    /// <summary>True when 127.0.0.1:<paramref name="port"/> can be bound right now.</summary>
    public static bool IsFree(int port)
    {
        if (port is <= 0 or > 65535)
        {
            return false;
        }
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
