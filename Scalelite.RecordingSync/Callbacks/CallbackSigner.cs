using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;

namespace Scalelite.RecordingSync.Callbacks;

/// <summary>The secret a tenant's LMS verifies callbacks with.</summary>
public interface ICallbackSecrets
{
    string? SecretFor(string tenantId);
}

/// <summary>Until tenants have their own secrets, every callback is signed with the load balancer's first secret.</summary>
internal sealed class LoadBalancerCallbackSecrets(IOptions<ScaleliteOptions> options) : ICallbackSecrets
{
    public string? SecretFor(string tenantId) => options.Value.SecretList() is [var first, ..] ? first : null;
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
