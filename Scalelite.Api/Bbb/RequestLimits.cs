using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;

namespace Scalelite.Api.Bbb;

/// <summary>The web server's limits, set above the API's own, so that our code answers every request it can.</summary>
/// <remarks>
/// <para>Kestrel refuses a request it cannot parse, or one past its limits, with a bare status (400, 414, 431, 505),
/// an empty body and a closed connection. That happens before there is a request: ASP.NET Core hands the application
/// nothing and offers no hook for the answer. So the limits our code checks sit below Kestrel's, and every request
/// within Kestrel's reaches the BBB handlers, which answer FAILED XML:</para>
/// <list type="bullet">
/// <item>The request line: <c>Scalelite__MaxQueryLength</c> is ours (longer queries get <c>invalidParameters</c>);
/// Kestrel's is that plus room for the method, the path and the version, and at least 1 MiB. Only a line
/// past Kestrel's limit is answered 414 by Kestrel.</item>
/// <item>Headers: 1 MiB in all and 100 fields (Kestrel's default); no BBB client comes near either, and past them
/// Kestrel answers 431.</item>
/// <item>A body that breaks while it is read (a malformed chunk, larger than Kestrel's body limit, sent too slowly)
/// is answered by <see cref="BbbRequestReader"/> with <c>invalidParameters</c>: by then the request is ours.</item>
/// </list>
/// <para>What cannot be answered in XML: requests that are not HTTP/1.1 as Kestrel parses it (a malformed request
/// line: raw spaces, control or non-ASCII bytes, an unknown version (505); <c>%00</c> in the path; a missing, doubled
/// or malformed <c>Host</c>; a malformed header line; an invalid or doubled <c>Content-Length</c>), and the request
/// lines and headers past the limits above. Kestrel stops reading such a connection in the middle of a request, so
/// there is no request to answer and the client's next bytes could not be trusted either.</para>
/// </remarks>
internal static class RequestLimits
{
    private const int Mebibyte = 1024 * 1024;

    /// <summary>Room on the request line besides the query: method, path and HTTP version.</summary>
    private const int RequestLineRoom = 16 * 1024;

    public static IHostApplicationBuilder AddRequestLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<ScaleliteOptions>>((kestrel, scalelite) =>
        {
            Apply(kestrel.Limits, scalelite.Value.MaxQueryLength);
            kestrel.AddServerHeader = false;
        });
        return builder;
    }

    internal static void Apply(KestrelServerLimits limits, int maxQueryLength)
    {
        limits.MaxRequestLineSize = Math.Max(Mebibyte, maxQueryLength + RequestLineRoom);
        limits.MaxRequestHeadersTotalSize = Mebibyte + (32 * 1024);
        // Kestrel wants its buffer to hold a whole request line or header block.
        limits.MaxRequestBufferSize = Math.Max(2 * Mebibyte, Math.Max(limits.MaxRequestLineSize, limits.MaxRequestHeadersTotalSize) + (64 * 1024));
    }
}
