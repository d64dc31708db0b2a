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

    /// <summary>
    /// Starts a server on a port found by <see cref="Next"/>, and on a fresh one when something else took that port
    /// first; returns the port it runs on.
    /// </summary>
    /// <remarks>
    /// A port is only free at the moment it is looked at: between <see cref="Next"/> and the server's own bind, another
    /// process on the machine (another test run, anything that binds port 0) may take it. Only the server's bind
    /// tells, so <paramref name="start"/> reports a taken port with <see cref="PortInUseException"/> and gets another.
    /// A caller that needs one fixed port (a restart the clients must find again) starts on it directly instead.
    /// </remarks>
    public static async Task<int> StartOnFreePortAsync(Func<int, Task> start, int attempts = 5)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = Next();
            try
            {
                await start(port);
                return port;
            }
            catch (PortInUseException) when (attempt < attempts)
            {
            }
        }
    }

    /// <summary>
    /// Keeps <paramref name="port"/> from other processes while its server is down, for a restart on the same port:
    /// the socket is bound without listening, so connections are still refused as they would be by a stopped server.
    /// Null when the port is taken already.
    /// </summary>
    /// <remarks>
    /// The socket is bound with SO_REUSEADDR and never listens: Linux then refuses the port to every bind that is not
    /// SO_REUSEADDR itself and skips it when choosing ports (for port 0 and outgoing connections), while PostgreSQL and
    /// Redis, which bind with SO_REUSEADDR, still start on it. Dispose it once the server is back.
    /// </remarks>
    public static IDisposable? Hold(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
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
