using System.Security.Cryptography;
using System.Text;
using Scalelite.BbbSimulator;

namespace Scalelite.Tests.BbbSimulator;

/// <summary>Builds signed BBB API URLs the way an LMS does, independently of the simulator's verifier.</summary>
internal static class BbbSigner
{
    public static string Checksum(string call, string query, string secret, HashAlgorithmName algorithm)
    {
        var input = Encoding.UTF8.GetBytes(call + query + secret);
        var hash = algorithm.Name switch
        {
            "SHA1" => SHA1.HashData(input),
            "SHA256" => SHA256.HashData(input),
            "SHA384" => SHA384.HashData(input),
            "SHA512" => SHA512.HashData(input),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
        };
        return Convert.ToHexStringLower(hash);
    }

    public static Uri Url(SimulatedServer server, string call, string query = "", HashAlgorithmName? algorithm = null)
    {
        var checksum = Checksum(call, query, server.Secret, algorithm ?? HashAlgorithmName.SHA256);
        var separator = query.Length == 0 ? string.Empty : "&";
        return new Uri($"{server.ApiUrl}/{call}?{query}{separator}checksum={checksum}");
    }
}
