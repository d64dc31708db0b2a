using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
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

/// <summary>Signs a recording-ready notification as BBB does: an HS256 JWT of <c>{"meeting_id", "record_id"}</c>.</summary>
/// <remarks>
/// Written out rather than taken from a JWT library because those refuse HMAC keys under 256 bits, while BBB (and
/// the LMS verifying the token) use the shared secret as it is, whatever its length.
/// </remarks>
public static class CallbackSigner
{
    private static readonly byte[] Header = Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}""");

    public static string Sign(string secret, string meetingId, string recordId)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["meeting_id"] = meetingId, ["record_id"] = recordId });
        var signingInput = $"{Base64Url.EncodeToString(Header)}.{Base64Url.EncodeToString(payload)}";
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signingInput));
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }
}
