using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Tenants;
using Scalelite.Core.Tenancy;

namespace Scalelite.RecordingSync.Callbacks;

/// <summary>The secret a tenant's LMS verifies callbacks with.</summary>
public interface ICallbackSecrets
{
    ValueTask<string?> SecretForAsync(string tenantId, CancellationToken ct);
}

/// <summary>
/// A tenant's callbacks are signed with its first secret (the one its LMS uses now; during a rollover list the new one
/// first); the default tenant's with the load balancer's first secret. A tenant removed since has none: its
/// callbacks are not sent.
/// </summary>
internal sealed class TenantCallbackSecrets(IOptions<ScaleliteOptions> options, IDbContextFactory<ScaleliteDbContext> databases) : ICallbackSecrets
{
    public async ValueTask<string?> SecretForAsync(string tenantId, CancellationToken ct)
    {
        if (tenantId == Tenant.DefaultId)
        {
            return options.Value.SecretList() is [var first, ..] ? first : null;
        }

        await using var db = await databases.CreateDbContextAsync(ct);
        var secrets = await db.Tenants.Where(t => t.Id == tenantId).Select(t => t.Secrets).FirstOrDefaultAsync(ct);
        return TenantRow.SplitSecrets(secrets) is [var own, ..] ? own : null;
    }
}

/// <summary>Signs the callbacks the load balancer sends in BBB's place (the JWT itself is <see cref="HmacJwt"/>'s).</summary>
public static class CallbackSigner
{
    /// <summary>How long an analytics callback's token is valid, as BBB and Scalelite sign it.</summary>
    public static readonly TimeSpan AnalyticsValidity = TimeSpan.FromHours(24);

    /// <summary>A recording-ready notification as BBB signs it: an HS256 JWT of <c>{"meeting_id", "record_id"}</c>.</summary>
    public static string Sign(string secret, string meetingId, string recordId) =>
        HmacJwt.Sign(secret, HmacJwt.HS256, new Dictionary<string, string> { ["meeting_id"] = meetingId, ["record_id"] = recordId });

    /// <summary>An analytics callback's bearer token as Scalelite signs it: HS512, only an <c>exp</c> 24 hours ahead.</summary>
    public static string SignAnalytics(string secret, DateTimeOffset now) =>
        HmacJwt.Sign(secret, HmacJwt.HS512, new Dictionary<string, long> { ["exp"] = (now + AnalyticsValidity).ToUnixTimeSeconds() });
}
