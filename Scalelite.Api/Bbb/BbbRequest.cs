using Scalelite.Core.Bbb;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Bbb;

/// <summary>A BBB API call that passed its checksum: who it is for, and its decoded parameters.</summary>
public sealed class BbbRequest
{
    public required string Call { get; init; }

    public required Tenant Tenant { get; init; }

    public required BbbParameters Parameters { get; init; }

    /// <summary>The XML body of a POST (create's pre-uploaded slides, insertDocument), with its content type.</summary>
    public byte[]? XmlBody { get; init; }

    public string? XmlContentType { get; init; }

    public required HttpContext HttpContext { get; init; }

    public string? this[string key] => Parameters[key];

    /// <summary>The value of a required parameter, or null when absent or empty (BBB treats both as missing).</summary>
    public string? Required(string key) => Parameters[key] is { Length: > 0 } value ? value : null;
}
