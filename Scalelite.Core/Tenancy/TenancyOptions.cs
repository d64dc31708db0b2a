using System.ComponentModel.DataAnnotations;

namespace Scalelite.Core.Tenancy;

/// <summary>Settings of multitenancy (section <c>Tenancy</c>); the switch itself is <c>MULTITENANCY_ENABLED</c>.</summary>
public sealed class TenancyOptions
{
    public const string Section = "Tenancy";

    /// <summary>
    /// With multitenancy on, a request that names no tenant (the bare <c>URL_HOST</c>, a host outside it, no <c>/t/NAME</c>
    /// path) is served as the default tenant, with the load-balancer secrets, instead of being refused (checksumError).
    /// </summary>
    public bool DefaultTenant { get; set; }

    /// <summary>Seconds between reloads of the tenants from PostgreSQL: the backstop behind the change notifications.</summary>
    [Range(0.1, 3600)] public double ReloadInterval { get; set; } = 5;
}
