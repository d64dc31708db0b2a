using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.State;

namespace Scalelite.Api.Meetings;

/// <summary>Voice bridge numbers unique across the whole pool, so that dial-in never reaches the wrong meeting.</summary>
/// <remarks>
/// The number is derived from the meeting key, so a re-created meeting keeps its number, and checked
/// against every running meeting's reservation in Redis; a collision moves on to the next derived number.
/// </remarks>
public sealed class VoiceBridges(MeetingRegistry registry, IOptions<ScaleliteOptions> options)
{
    private const int Attempts = 32;

    public async Task<string?> ReserveAsync(string member, string? requested)
    {
        var o = options.Value;
        var ttl = TimeSpan.FromSeconds(o.MeetingTtl);
        if (o.UseExternalVoiceBridge && !string.IsNullOrEmpty(requested) && await registry.TryReserveVoiceBridgeAsync(requested, member, ttl))
        {
            return requested;
        }

        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var number = Derive(member, attempt, o.VoiceBridgeLength);
            if (await registry.TryReserveVoiceBridgeAsync(number, member, ttl))
            {
                return number;
            }
        }

        return null;
    }

    public Task ReleaseAsync(string number) => registry.ReleaseVoiceBridgeAsync(number);

    /// <summary>
    /// A number for a meeting placed while Redis is down: the same derivation, checked only against this replica's
    /// other such meetings (<paramref name="taken"/>). It is reserved in Redis when the meeting is recorded there; a
    /// running meeting elsewhere may hold it meanwhile (see docs/operations.md, "When Redis fails").
    /// </summary>
    public string? ChooseWithoutRedis(string member, string? requested, Func<string, bool> taken)
    {
        var o = options.Value;
        if (o.UseExternalVoiceBridge && !string.IsNullOrEmpty(requested) && !taken(requested))
        {
            return requested;
        }

        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var number = Derive(member, attempt, o.VoiceBridgeLength);
            if (!taken(number))
            {
                return number;
            }
        }

        return null;
    }

    internal static string Derive(string member, int attempt, int length)
    {
        Span<byte> digest = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{attempt}:{member}"), digest);
        var value = BitConverter.ToUInt64(digest) % (ulong)Math.Pow(10, length - 1);
        // The first digit is never 0, so that the number keeps its length when dialled.
        var first = 1 + (digest[8] % 9);
        return first.ToString(System.Globalization.CultureInfo.InvariantCulture) + value.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(length - 1, '0');
    }
}
