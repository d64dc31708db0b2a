using System.Security.Cryptography;
using System.Text;

namespace Scalelite.Core.Bbb;

/// <summary>The hash functions BBB checksums may use. The value is the hex length of the digest.</summary>
public enum ChecksumAlgorithm
{
    Sha1 = 40,
    Sha256 = 64,
    Sha384 = 96,
    Sha512 = 128,
}

/// <summary>BBB's request checksum: <c>HEX(HASH(callName + rawQuery + secret))</c>.</summary>
/// <remarks>
/// The query string is hashed exactly as the client sent it, with only the checksum parameter cut
/// out: no decoding, re-encoding or re-ordering, because clients sign their own encoding
/// (<c>+</c> or <c>%20</c>, a leading <c>&amp;</c>, ...). The algorithm is told by the checksum's length.
/// </remarks>
public static class Checksum
{
    public static ChecksumAlgorithm? AlgorithmForLength(int hexLength) => hexLength switch
    {
        40 => ChecksumAlgorithm.Sha1,
        64 => ChecksumAlgorithm.Sha256,
        96 => ChecksumAlgorithm.Sha384,
        128 => ChecksumAlgorithm.Sha512,
        _ => null,
    };

    /// <summary>Lower-case hex checksum of <paramref name="callName"/> + <paramref name="query"/> + <paramref name="secret"/>.</summary>
    public static string Compute(ChecksumAlgorithm algorithm, string callName, string query, string secret)
    {
        Span<byte> digest = stackalloc byte[64];
        var written = Hash(algorithm, callName, query, secret, digest);
        return Convert.ToHexStringLower(digest[..written]);
    }

    /// <summary>
    /// Checks <paramref name="checksum"/> (hex, either case) against every secret, in constant time per secret.
    /// </summary>
    public static bool Verify(string callName, string query, string checksum, IReadOnlyList<string> secrets, ChecksumAlgorithms allowed)
    {
        if (AlgorithmForLength(checksum.Length) is not { } algorithm || !allowed.Allows(algorithm))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[64];
        var length = (int)algorithm / 2;
        if (Convert.FromHexString(checksum, expected[..length], out _, out var written) != System.Buffers.OperationStatus.Done || written != length)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[64];
        var match = false;
        foreach (var secret in secrets)
        {
            Hash(algorithm, callName, query, secret, actual);
            // Every secret is tried even after a match so that timing does not tell which one matched.
            match |= CryptographicOperations.FixedTimeEquals(actual[..length], expected[..length]);
        }

        return match;
    }

    /// <summary>
    /// Cuts the checksum parameter out of a raw query string (without its leading <c>?</c>), returning
    /// the rest byte for byte as the client sent it, and the checksum's value (raw, undecoded).
    /// </summary>
    public static (string Query, string? Checksum) SplitChecksum(string rawQuery)
    {
        var span = rawQuery.AsSpan();
        var start = 0;
        while (start <= span.Length)
        {
            var end = span[start..].IndexOf('&');
            end = end < 0 ? span.Length : start + end;
            var part = span[start..end];
            if (part.StartsWith("checksum="))
            {
                var value = part["checksum=".Length..].ToString();
                string rest;
                if (start > 0)
                {
                    // "&checksum=X" is cut, whatever follows stays.
                    rest = string.Concat(span[..(start - 1)], span[end..]);
                }
                else
                {
                    // "checksum=X&" at the start is cut with its separator; "checksum=X" alone leaves nothing.
                    rest = end < span.Length ? span[(end + 1)..].ToString() : string.Empty;
                }

                return (rest, value);
            }

            start = end + 1;
        }

        return (rawQuery, null);
    }

    private static int Hash(ChecksumAlgorithm algorithm, string callName, string query, string secret, Span<byte> destination)
    {
        var total = Encoding.UTF8.GetMaxByteCount(callName.Length + query.Length + secret.Length);
        byte[]? rented = null;
        var buffer = total <= 1024 ? stackalloc byte[1024] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(total));
        try
        {
            var n = Encoding.UTF8.GetBytes(callName, buffer);
            n += Encoding.UTF8.GetBytes(query, buffer[n..]);
            n += Encoding.UTF8.GetBytes(secret, buffer[n..]);
            ReadOnlySpan<byte> input = buffer[..n];
            return algorithm switch
            {
                ChecksumAlgorithm.Sha1 => SHA1.HashData(input, destination),
                ChecksumAlgorithm.Sha256 => SHA256.HashData(input, destination),
                ChecksumAlgorithm.Sha384 => SHA384.HashData(input, destination),
                _ => SHA512.HashData(input, destination),
            };
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>The set of checksum algorithms a deployment accepts (LOADBALANCER_CHECKSUM_ALGORITHM).</summary>
public readonly record struct ChecksumAlgorithms(bool Sha1, bool Sha256, bool Sha384, bool Sha512)
{
    public static readonly ChecksumAlgorithms All = new(true, true, true, true);

    public bool Allows(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Sha1 => Sha1,
        ChecksumAlgorithm.Sha256 => Sha256,
        ChecksumAlgorithm.Sha384 => Sha384,
        _ => Sha512,
    };

    /// <summary>The strongest algorithm of the set: backend calls are signed with it when LOADBALANCER_CHECKSUM_ALGORITHM is set (as Scalelite does).</summary>
    public ChecksumAlgorithm Strongest => Sha512 ? ChecksumAlgorithm.Sha512 : Sha384 ? ChecksumAlgorithm.Sha384 : Sha256 ? ChecksumAlgorithm.Sha256 : ChecksumAlgorithm.Sha1;

    /// <summary>Parses a list such as <c>SHA1:SHA256</c> or <c>sha256,sha512</c>; empty means all.</summary>
    public static ChecksumAlgorithms Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return All;
        }

        bool s1 = false, s256 = false, s384 = false, s512 = false;
        foreach (var raw in value.Split([':', ',', ';', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            switch (raw.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant())
            {
                case "SHA1": s1 = true; break;
                case "SHA256": s256 = true; break;
                case "SHA384": s384 = true; break;
                case "SHA512": s512 = true; break;
                default: throw new FormatException($"Unknown checksum algorithm '{raw}'. Use SHA1, SHA256, SHA384 or SHA512.");
            }
        }

        return new ChecksumAlgorithms(s1, s256, s384, s512);
    }
}
