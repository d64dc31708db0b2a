using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;

namespace Scalelite.Core.Tenancy;

/// <summary>Where a tenant's name is found in a request: the first label of the host, or <c>/t/NAME</c> before the path.</summary>
public static class TenantPath
{
    /// <summary>The path prefix of path tenants: <c>/t/NAME/bigbluebutton/api/...</c>.</summary>
    public const string Prefix = "/t";

    /// <summary>The tenant name of a request's path base (<c>/t/NAME</c>, set by the API's path middleware); empty when none.</summary>
    public static ReadOnlySpan<char> NameOf(ReadOnlySpan<char> pathBase) =>
        pathBase.Length > Prefix.Length + 1 && pathBase.StartsWith(Prefix + "/", StringComparison.Ordinal) ? pathBase[(Prefix.Length + 1)..] : [];

    /// <summary>
    /// The tenant label of a host: the first label when the host is a sub-domain of <paramref name="urlHost"/>
    /// (<c>school1.lb.example.com</c> with <c>URL_HOST=lb.example.com</c> is <c>school1</c>); empty for
    /// <paramref name="urlHost"/> itself, any host outside it, and IP addresses. Without <c>URL_HOST</c> (null), the
    /// first label of any host name with a dot in it, as Scalelite does.
    /// </summary>
    /// <param name="host">A Host header value, possibly with a port.</param>
    /// <param name="urlHost">Lower case, without port or trailing dot (<see cref="NormalizeHost"/>).</param>
    public static ReadOnlySpan<char> HostLabel(ReadOnlySpan<char> host, string? urlHost)
    {
        host = WithoutPort(host).TrimEnd('.');
        if (host.IsEmpty || IPAddress.TryParse(host, out _))
        {
            return [];
        }

        if (urlHost is not null)
        {
            if (host.Length <= urlHost.Length + 1 || host[^(urlHost.Length + 1)] != '.' || !host.EndsWith(urlHost, StringComparison.OrdinalIgnoreCase))
            {
                return [];
            }

            host = host[..^(urlHost.Length + 1)];
        }
        else if (!host.Contains('.'))
        {
            return [];
        }

        var dot = host.IndexOf('.');
        return dot < 0 ? host : host[..dot];
    }

    /// <summary><c>URL_HOST</c> as hosts are compared with it: lower case, without scheme, port, path or trailing dot; null when unset.</summary>
    public static string? NormalizeHost(string? urlHost)
    {
        if (string.IsNullOrWhiteSpace(urlHost))
        {
            return null;
        }

        var value = urlHost.Trim();
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            value = value[(scheme + 3)..];
        }

        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            value = value[..slash];
        }

        var normalized = WithoutPort(value).TrimEnd('.').ToString().ToLowerInvariant();
        return normalized.Length == 0 ? null : normalized;
    }

    /// <summary>The host a client called: the first <c>X-Forwarded-Host</c> value when a proxy set one, else the Host header.</summary>
    public static ReadOnlySpan<char> RequestHost(HttpRequest request)
    {
        var forwarded = request.Headers["X-Forwarded-Host"];
        if (forwarded.Count > 0 && !string.IsNullOrWhiteSpace(forwarded[0]))
        {
            var value = forwarded[0].AsSpan();
            var comma = value.IndexOf(',');
            return (comma < 0 ? value : value[..comma]).Trim();
        }

        return request.Headers.Host.ToString();
    }

    private static ReadOnlySpan<char> WithoutPort(ReadOnlySpan<char> host)
    {
        if (host.StartsWith("["))
        {
            var end = host.IndexOf(']');
            return end < 0 ? host : host[1..end];
        }

        var colon = host.LastIndexOf(':');
        // More than one colon without brackets is a bare IPv6 address, not a port.
        return colon >= 0 && host.IndexOf(':') == colon ? host[..colon] : host;
    }
}

/// <summary>
/// Multitenancy on: the tenant named by the request's host or path, looked up in <see cref="TenantDirectory"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>/t/NAME/...</c> (the API's path middleware moved it to the path base) names a path tenant; a host that
/// names another tenant at the same time is refused.</item>
/// <item>Otherwise the host's first label, when the host is a sub-domain of <c>URL_HOST</c> (see <see cref="TenantPath.HostLabel"/>).</item>
/// <item>Otherwise no tenant: refused (Scalelite #968), unless <see cref="TenancyOptions.DefaultTenant"/> lets the
/// default tenant, with the load-balancer secrets, serve it.</item>
/// </list>
/// An unknown name is refused. The lookup does not allocate: the name stays a slice of the header or path.
/// </remarks>
internal sealed class MultiTenantResolver(TenantDirectory directory, IOptions<ScaleliteOptions> scalelite, IOptions<TenancyOptions> tenancy) : ITenantResolver
{
    private readonly string? _urlHost = TenantPath.NormalizeHost(scalelite.Value.UrlHost);
    private readonly Tenant? _default = tenancy.Value.DefaultTenant && scalelite.Value.SecretList() is { Count: > 0 } secrets
        ? new Tenant(Tenant.DefaultId, Tenant.DefaultName, secrets)
        : null;

    public Tenant? Resolve(HttpRequest request)
    {
        var label = TenantPath.HostLabel(TenantPath.RequestHost(request), _urlHost);
        var pathName = TenantPath.NameOf(request.PathBase.Value);
        if (!pathName.IsEmpty)
        {
            return label.IsEmpty || label.Equals(pathName, StringComparison.OrdinalIgnoreCase) ? directory.FindByName(pathName) : null;
        }

        return label.IsEmpty ? _default : directory.FindByName(label);
    }
}
