using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Scalelite.Api.Extensions;

/// <summary>
/// Runs requests on the threads that watch the sockets instead of handing each one to the thread pool
/// (<c>Api:InlineIo</c>, on by default).
/// </summary>
/// <remarks>
/// By default .NET hands every socket event from its event thread to the thread pool, and Kestrel hands every
/// received request on again. A join is a 302 computed from memory in a few microseconds; the hand-offs (waking a
/// worker, its spinning, the switches) cost more than that. Without them the API spends about a quarter less CPU per
/// join and answers a quarter more joins on the same cores (<c>bench/README.md</c>, join).
/// <para>The price is a rule: code running on an event thread holds up the other connections of that thread, so
/// nothing in this service may block a thread. Kestrel already refuses synchronous body I/O; the API uses only the
/// asynchronous Redis, PostgreSQL and HTTP calls; and file system work, which on NFS can stall, goes to the thread
/// pool (<see cref="Recordings.RecordingFiles"/>). <c>Api:InlineIo=false</c> restores the thread pool hand-offs.</para>
/// <para>.NET reads <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> when the process first uses a socket, so it is
/// set here, before anything connects; a value the operator set in the environment is left as it is.</para>
/// </remarks>
public static class InlineIo
{
    public const string SettingKey = "Api:InlineIo";
    private const string SocketsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static IHostApplicationBuilder UseInlineIo(this IHostApplicationBuilder builder)
    {
        var enabled = builder.Configuration.GetValue(SettingKey, defaultValue: true);
        if (enabled && Environment.GetEnvironmentVariable(SocketsVariable) is null)
        {
            Environment.SetEnvironmentVariable(SocketsVariable, "1");
        }

        builder.Services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = enabled);
        return builder;
    }
}
