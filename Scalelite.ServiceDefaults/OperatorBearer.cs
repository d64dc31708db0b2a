using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>Decides whether a bearer token is the operator's (an admin secret); registered by the services.</summary>
public interface IOperatorTokenValidator
{
    bool IsValid(ReadOnlySpan<byte> token);
}

/// <summary>The one reading of <c>Authorization: Bearer SECRET</c> for everything that only operators may see.</summary>
public static class OperatorBearer
{
    private const string Scheme = "Bearer ";

    /// <summary>Whether the request carries an admin secret; false when no validator is registered.</summary>
    public static bool IsPresented(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            && http.RequestServices.GetService<IOperatorTokenValidator>() is { } validator
            && validator.IsValid(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()));
    }
}
