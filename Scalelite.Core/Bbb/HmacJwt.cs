using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Scalelite.Core.Bbb;

/// <summary>The JWTs BBB and its callbacks speak: HMAC-signed (HS256 or HS512) with a shared secret.</summary>
/// <remarks>
/// Written out rather than taken from a JWT library because those refuse HMAC keys under 256 bits, while BBB (and the
/// LMS verifying the token) use the shared secret as it is, whatever its length. Verification accepts exactly the
/// algorithm the caller names: a token that says <c>none</c> or another algorithm is refused, not trusted.
/// </remarks>
public static class HmacJwt
{
    public const string HS256 = "HS256";
    public const string HS512 = "HS512";

    /// <summary>Signs <paramref name="payload"/> (serialised as JSON) with <paramref name="secret"/>.</summary>
    public static string Sign(string secret, string algorithm, object payload)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = algorithm, ["typ"] = "JWT" });
        var body = JsonSerializer.SerializeToUtf8Bytes(payload);
        var signingInput = $"{Base64Url.EncodeToString(header)}.{Base64Url.EncodeToString(body)}";
        return $"{signingInput}.{Base64Url.EncodeToString(Mac(algorithm, secret, signingInput))}";
    }

    /// <summary>
    /// True when <paramref name="token"/> is signed with <paramref name="algorithm"/> by one of <paramref name="secrets"/>
    /// and, if it carries an <c>exp</c>, has not expired at <paramref name="now"/>.
    /// </summary>
    public static bool Verify(string token, string algorithm, IEnumerable<string> secrets, DateTimeOffset now)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || !TryDecode(parts[0], out var header) || !TryDecode(parts[1], out var body) || !TryDecode(parts[2], out var signature))
        {
            return false;
        }

        try
        {
            using var h = JsonDocument.Parse(header);
            if (h.RootElement.ValueKind != JsonValueKind.Object || !h.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != algorithm)
            {
                return false;
            }

            using var b = JsonDocument.Parse(body);
            if (b.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (b.RootElement.TryGetProperty("exp", out var exp) && (!exp.TryGetInt64(out var seconds) || seconds <= now.ToUnixTimeSeconds()))
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false;
        }

        var signingInput = $"{parts[0]}.{parts[1]}";
        return secrets.Any(s => s.Length > 0 && CryptographicOperations.FixedTimeEquals(Mac(algorithm, s, signingInput), signature));
    }

    private static byte[] Mac(string algorithm, string secret, string signingInput)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        var data = Encoding.ASCII.GetBytes(signingInput);
        return algorithm switch
        {
            HS256 => HMACSHA256.HashData(key, data),
            HS512 => HMACSHA512.HashData(key, data),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Only HS256 and HS512 are spoken."),
        };
    }

    private static bool TryDecode(string part, out byte[] bytes)
    {
        try
        {
            bytes = Base64Url.DecodeFromChars(part);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
