using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Scalelite.Core.Configuration;

/// <summary>
/// The operator's bearer token is any admin secret (<see cref="ScaleliteOptions.AdminSecretList"/>). The one check used by
/// the operator API and by every service's <c>/metrics</c>.
/// </summary>
public sealed class OperatorToken(IOptionsMonitor<ScaleliteOptions> options) : IOperatorTokenValidator
{
    public bool IsValid(ReadOnlySpan<byte> token)
    {
        var match = false;
        foreach (var secret in options.CurrentValue.AdminSecretList())
        {
            // Every secret is compared, each in constant time, so timing tells nothing about which one is close.
            match |= CryptographicOperations.FixedTimeEquals(token, Encoding.UTF8.GetBytes(secret));
        }

        return match;
    }
}
