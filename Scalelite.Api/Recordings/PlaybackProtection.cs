using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Recordings;
using StackExchange.Redis;

namespace Scalelite.Api.Recordings;

/// <summary>One-time playback tokens and the scoped cookie they are exchanged for (protected recordings).</summary>
/// <remarks>
/// A token is 32 random bytes, kept in Redis under <c>sl:rt:{token}</c> with the token lifetime as TTL and naming
/// the recording and format it opens. Redeeming it is a GETDEL, so of two concurrent uses exactly one succeeds and
/// any API replica can redeem a token another replica issued. The cookie it buys is stateless: the recording, the
/// format and an expiry, signed with HMAC-SHA256 under a key derived from the load balancer's first secret, and
/// scoped by its Path to <c>/{format}/{recordID}</c>, so it opens that recording's files and nothing else.
/// </remarks>
public sealed class PlaybackProtection(
    IConnectionMultiplexer redis,
    IOptions<RecordingOptions> options,
    IOptions<ScaleliteOptions> balancer,
    TimeProvider time)
{
    public const string CookiePrefix = "sl_rec_";

    private readonly RecordingOptions _options = options.Value;
    private readonly byte[] _key = HMACSHA256.HashData(
        Encoding.UTF8.GetBytes(balancer.Value.SecretList() is [var first, ..] ? first : string.Empty),
        "scalelite recording playback cookie"u8);

    private static RedisKey TokenKey(string token) => "sl:rt:" + token;

    /// <summary>A token for each (recording, format) of the page whose recording is protected.</summary>
    public async Task<IReadOnlyDictionary<(long, string), string>> IssueTokensAsync(IReadOnlyList<RecordingRow> page)
    {
        var tokens = new Dictionary<(long, string), string>();
        var db = redis.GetDatabase();
        var writes = new List<Task>();
        foreach (var recording in page)
        {
            if (!recording.Protected)
            {
                continue;
            }

            foreach (var format in recording.Formats)
            {
                var token = NewToken();
                tokens[(recording.Id, format.Format)] = token;
                writes.Add(db.StringSetAsync(TokenKey(token), Target(recording.RecordId, format.Format), _options.TokenLifetime));
            }
        }

        // Issued as one pipeline: one round trip for the whole page.
        await Task.WhenAll(writes);
        return tokens;
    }

    /// <summary>Uses up the token; true only the first time, before it expires, and for the recording it was issued for.</summary>
    public async Task<bool> RedeemAsync(string? token, string recordId, string format)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            return false;
        }

        var target = await redis.GetDatabase().StringGetDeleteAsync(TokenKey(token));
        return target.HasValue && target == Target(recordId, format);
    }

    public static string CookieName(string recordId) => CookiePrefix + recordId;

    public static string CookiePath(string recordId, string format) => RecordingFiles.WebPath(format, recordId);

    public string CookieValue(string recordId, string format)
    {
        var expires = time.GetUtcNow().Add(_options.CookieLifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return expires + "." + Sign(recordId, format, expires);
    }

    public bool IsValidCookie(string? value, string recordId, string format)
    {
        if (string.IsNullOrEmpty(value) || value.Split('.') is not [var expires, var signature]
            || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || time.GetUtcNow().ToUnixTimeSeconds() >= seconds)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(Sign(recordId, format, expires)));
    }

    private string Sign(string recordId, string format, string expires) =>
        Base64Url(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{recordId}\n{format}\n{expires}")));

    private static string Target(string recordId, string format) => recordId + "\n" + format;

    private static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
