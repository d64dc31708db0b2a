using Scalelite.Core.Persistence.Tenants;
using Scalelite.Core.Tenancy;
using Scalelite.Tests.Infrastructure;

namespace Scalelite.Tests.Support;

/// <summary>A pool with multitenancy on: tenants by host under <see cref="UrlHost"/>, tenants by path, and the default tenant on the bare host.</summary>
public static class TenantPool
{
    /// <summary>The load balancer's host name; a tenant NAME is reached at NAME.lb.localhost (sent as the Host header).</summary>
    public const string UrlHost = "lb.localhost";

    public static Dictionary<string, string?> Settings(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Scalelite:MultitenancyEnabled"] = "true",
            ["Scalelite:UrlHost"] = UrlHost,
            ["Tenancy:DefaultTenant"] = "true",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static Task<PoolHarness> StartAsync(InfrastructureFixture infrastructure, int simulators = 2, params (string Key, string? Value)[] extra) =>
        PoolHarness.StartAsync(infrastructure, simulators, Settings(extra));

    /// <summary>Adds a tenant as an operator would; every API replica has reloaded when this returns.</summary>
    public static async Task<TenantRow> AddTenantAsync(
        this PoolHarness pool, string name, string secrets, int? maxMeetings = null, int? maxParticipants = null, int? maxMeetingParticipants = null)
    {
        var result = await pool.ApiService<TenantStore>().AddAsync(new TenantChange(name, secrets, maxMeetings, maxParticipants, maxMeetingParticipants), CancellationToken.None);
        Assert.True(result.Succeeded, result.Error);
        return result.Tenant!;
    }

    public static async Task AddSettingAsync(this PoolHarness pool, string tenant, string param, string value, bool isOverride = false, string scope = TenantSettingScope.All)
    {
        var result = await pool.ApiService<TenantStore>().AddSettingAsync(tenant, param, value, isOverride, scope, CancellationToken.None);
        Assert.True(result.Succeeded, result.Error);
    }

    /// <summary>An LMS of a host tenant: the pool's address, with the tenant's host name in the Host header.</summary>
    public static BbbTestClient HostClient(this PoolHarness pool, string name, string secret) => new(pool.ApiBase, secret, $"{name}.{UrlHost}");

    /// <summary>An LMS of a path tenant: <c>/t/NAME/bigbluebutton/api</c>.</summary>
    public static BbbTestClient PathClient(this PoolHarness pool, string name, string secret) => new(PathBase(pool.ApiBase, name), secret);

    public static string PathBase(string apiBase, string name) => apiBase.Replace("/bigbluebutton/api", $"/t/{name}/bigbluebutton/api", StringComparison.Ordinal);
}
