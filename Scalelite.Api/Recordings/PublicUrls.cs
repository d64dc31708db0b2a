using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Recordings;

/// <summary>URLs in answers point at the host the client called, not at the BBB server that recorded.</summary>
/// <remarks>
/// The base is <c>scheme://host</c>: the scheme from <c>X-Forwarded-Proto</c> when a proxy in front set it, else the
/// request's; the host from <c>URL_HOST</c> when configured, else <c>X-Forwarded-Host</c>, else the request's Host
/// header. A tenant's host (a sub-domain of <c>URL_HOST</c>) is kept, and a tenant's path (<c>/t/NAME</c>) is
/// appended, so that a tenant's links lead back to where that tenant's recordings may be played. Trusting the
/// forwarded headers is safe here: they only shape links handed back to the same caller.
/// </remarks>
public static class PublicUrls
{
    public static string Base(HttpRequest request, string? urlHost)
    {
        var scheme = First(request.Headers["X-Forwarded-Proto"]) is { } proto && (proto is "http" or "https") ? proto : request.Scheme;
        var called = First(request.Headers["X-Forwarded-Host"]) ?? request.Host.Value ?? "localhost";
        var host = string.IsNullOrWhiteSpace(urlHost) || !TenantPath.HostLabel(called, TenantPath.NormalizeHost(urlHost)).IsEmpty ? called : urlHost.Trim();
        return $"{scheme}://{host}{request.PathBase}";
    }

    /// <summary>Replaces the scheme and authority of <paramref name="url"/> with <paramref name="baseUrl"/>; a path is prefixed with it.</summary>
    public static string Rewrite(string url, string baseUrl)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return baseUrl + uri.PathAndQuery + uri.Fragment;
        }

        return url.StartsWith('/') ? baseUrl + url : url;
    }

    /// <summary>The path and query of a stored playback URL (absolute or not).</summary>
    public static string PathOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && !url.StartsWith('/') ? uri.PathAndQuery : url;

    private static string? First(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count == 0 || string.IsNullOrWhiteSpace(values[0]) ? null : values[0]!.Split(',')[0].Trim();
}
