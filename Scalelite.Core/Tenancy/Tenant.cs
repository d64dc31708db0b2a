namespace Scalelite.Core.Tenancy;

/// <summary>Who an API request speaks for: its secrets and the prefix under which its meetings are kept.</summary>
public sealed record Tenant(string Id, string Name, IReadOnlyList<string> Secrets)
{
    /// <summary>The id of the single tenant that exists while multitenancy is off.</summary>
    public const string DefaultId = "";
}

/// <summary>Resolves a request to a tenant before its checksum is checked; null means the request is refused (checksumError).</summary>
public interface ITenantResolver
{
    Tenant? Resolve(string host);
}

/// <summary>Multitenancy off: every request belongs to the default tenant, whose secrets are the load balancer's.</summary>
internal sealed class SingleTenantResolver(Microsoft.Extensions.Options.IOptions<Configuration.ScaleliteOptions> options) : ITenantResolver
{
    private readonly Tenant _tenant = new(Tenant.DefaultId, "default", options.Value.SecretList());

    public Tenant? Resolve(string host) => _tenant.Secrets.Count == 0 ? null : _tenant;
}
