using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Scalelite.BbbSimulator;

/// <summary>
/// BBB's checksum rule, kept local on purpose: the simulator is the independent reference the
/// production verifier is tested against, so it must not share that code.
/// </summary>
/// <remarks>
/// checksum = hex(HASH(callName + rawQuery + secret)). The raw query is the query string exactly as
/// received, minus the checksum parameter, cut out the way BBB does it (<c>&amp;checksum=X</c>,
/// then <c>checksum=X&amp;</c>, then <c>checksum=X</c>). The hash is chosen by the hex length.
/// </remarks>
internal static class Checksum
{
    private const int StackLimit = 1024;

    /// <summary>Extracts the raw (undecoded) checksum value from a raw query string.</summary>
    /// <param name="rawQuery">The query string without the leading '?'.</param>
    public static string? FindRawChecksum(string rawQuery)
    {
        var start = 0;
        while (start <= rawQuery.Length)
        {
            var end = rawQuery.IndexOf('&', start);
            if (end < 0)
            {
                end = rawQuery.Length;
            }

            var segment = rawQuery.AsSpan(start, end - start);
            if (segment.StartsWith("checksum=", StringComparison.Ordinal))
            {
                return segment["checksum=".Length..].ToString();
            }

            start = end + 1;
        }

        return null;
    }

    /// <summary>Removes the checksum parameter from the raw query the way BBB's server does.</summary>
    public static string StripChecksum(string rawQuery, string checksum)
    {
        var withAmp = "&checksum=" + checksum;
        if (rawQuery.Contains(withAmp, StringComparison.Ordinal))
        {
            return rawQuery.Replace(withAmp, string.Empty, StringComparison.Ordinal);
        }

        var leading = "checksum=" + checksum + "&";
        if (rawQuery.StartsWith(leading, StringComparison.Ordinal))
        {
            return rawQuery[leading.Length..];
        }

        return rawQuery.Replace("checksum=" + checksum, string.Empty, StringComparison.Ordinal);
    }

    /// <summary>Verifies a hex checksum over <paramref name="call"/> + <paramref name="query"/> + <paramref name="secret"/>.</summary>
    public static bool Verify(string call, string query, string secret, string checksumHex)
    {
        var hashLength = checksumHex.Length / 2;
        if (checksumHex.Length % 2 != 0 || hashLength is not (20 or 32 or 48 or 64))
        {
            return false;
        }

        Span<byte> given = stackalloc byte[64];
        given = given[..hashLength];
        if (Convert.FromHexString(checksumHex, given, out _, out var written) != OperationStatus.Done
            || written != hashLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[64];
        expected = expected[..hashLength];
        Compute(call, query, secret, expected);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    /// <summary>Computes the hash into <paramref name="destination"/>, whose length selects the algorithm.</summary>
    public static void Compute(string call, string query, string secret, Span<byte> destination)
    {
        var byteCount = Encoding.UTF8.GetByteCount(call) + Encoding.UTF8.GetByteCount(query) + Encoding.UTF8.GetByteCount(secret);
        byte[]? rented = null;
        var buffer = byteCount <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(byteCount));
        try
        {
            var n = Encoding.UTF8.GetBytes(call, buffer);
            n += Encoding.UTF8.GetBytes(query, buffer[n..]);
            n += Encoding.UTF8.GetBytes(secret, buffer[n..]);
            ReadOnlySpan<byte> input = buffer[..n];
            _ = destination.Length switch
            {
                20 => SHA1.HashData(input, destination),
                32 => SHA256.HashData(input, destination),
                48 => SHA384.HashData(input, destination),
                64 => SHA512.HashData(input, destination),
                _ => throw new ArgumentException("Unsupported hash length.", nameof(destination)),
            };
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
