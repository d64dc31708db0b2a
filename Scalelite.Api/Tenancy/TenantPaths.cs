using Scalelite.Api.Apis;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Tenancy;

/// <summary>
/// Path tenants: <c>/t/NAME/bigbluebutton/api/...</c> reaches the same handlers as <c>/bigbluebutton/api/...</c>, for
/// operators who cannot have a wildcard DNS name or certificate (Scalelite has only host tenants, #1019).
/// </summary>
/// <remarks>
/// The prefix is moved from the path to the path base, where <see cref="ITenantResolver"/> reads the name and from
/// which URLs handed back (playback) are built. Only the BBB API and recording playback are served under a tenant's
/// path: the admin and operator APIs are never reached this way, whatever follows the prefix. The path is not put back
/// afterwards, so that the last-resort error handler still sees a BBB API path and answers in XML.
/// </remarks>
public static class TenantPaths
{
    private static readonly PathString[] Served = [BbbApi.Prefix, "/recording", "/recording-resource"];

    public static IApplicationBuilder UseTenantPaths(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments(TenantPath.Prefix, out var rest) && rest.Value is { Length: > 2 } value)
        {
            var slash = value.IndexOf('/', 1);
            if (slash > 1)
            {
                var remaining = new PathString(value[slash..]);
                foreach (var served in Served)
                {
                    if (remaining.StartsWithSegments(served))
                    {
                        request.PathBase = request.PathBase.Add(new PathString(TenantPath.Prefix + value[..slash]));
                        request.Path = remaining;
                        break;
                    }
                }
            }
        }

        return next(context);
    });
}
