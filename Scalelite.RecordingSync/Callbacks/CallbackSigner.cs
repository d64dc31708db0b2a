using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;

namespace Scalelite.RecordingSync.Callbacks;

/// <summary>The secret a tenant's LMS verifies callbacks with.</summary>
public interface ICallbackSecrets
{
    string? SecretFor(string tenantId);
}

/// <summary>Until tenants have their own secrets, every callback is signed with the load balancer's first secret.</summary>
internal sealed class LoadBalancerCallbackSecrets(IOptions<ScaleliteOptions> options) : ICallbackSecrets
{
    public string? SecretFor(string tenantId) => options.Value.SecretList() is [var first, ..] ? first : null;
}

/// <summary>Signs the callbacks the load balancer sends in BBB's place (the JWT itself is <see cref="HmacJwt"/>'s).</summary>
public static class CallbackSigner
{
    /// <summary>How long an analytics callback's token is valid, as BBB and Scalelite sign it.</summary>
    public static readonly TimeSpan AnalyticsValidity = TimeSpan.FromHours(24);

    /// <summary>A recording-ready notification as BBB signs it: an HS256 JWT of <c>{"meeting_id", "record_id"}</c>.</summary>
    public static string Sign(string secret, string meetingId, string recordId) =>
        HmacJwt.Sign(secret, HmacJwt.HS256, new Dictionary<string, string> { ["meeting_id"] = meetingId, ["record_id"] = recordId });

    /// <summary>An analytics callback's bearer token as Scalelite signs it: HS512, only an <c>exp</c> 24 hours ahead.</summary>
    public static string SignAnalytics(string secret, DateTimeOffset now) =>
        HmacJwt.Sign(secret, HmacJwt.HS512, new Dictionary<string, long> { ["exp"] = (now + AnalyticsValidity).ToUnixTimeSeconds() });
}
