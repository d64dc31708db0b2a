using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.State;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Tenancy;

/// <summary>What tenancy adds to create and join: the tenant's marks on its meetings, its limits, and meeting IDs that stay one tenant's.</summary>
/// <remarks>
/// <list type="bullet">
/// <item>Create carries <c>meta_tenant-id</c> and <c>meta_tenant-name</c>, set here whatever the LMS sent, so that the
/// poller, getMeetings and the recording import can tell whose a meeting is. The default tenant's creates carry neither.</item>
/// <item>A meeting ID is one tenant's while it runs: BBB servers know meetings by ID alone, so a second tenant's
/// meeting of the same ID would meet the first on its server. Creates of one meeting ID take one lock whichever
/// tenant asks (<see cref="TenantMeetings.LockMember"/>), and the second finds the first's meeting and is refused.</item>
/// <item>Limits: meetings at once (counted in Redis as creates place them, <see cref="TenantMeetings"/>), participants
/// in all meetings (as the poller last counted them: one comparison in memory on the join path), and a cap on
/// <c>maxParticipants</c>, which a create without one gets.</item>
/// </list>
/// With multitenancy off none of this applies and each method returns at once.
/// </remarks>
public sealed class TenantAdmission(TenantDirectory directory, TenantMeetings meetings, IOptions<ScaleliteOptions> options)
{
    private static readonly Meter Meter = new(Monitoring.ApiOutcomes.MeterName);

    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>(
        "scalelite.tenant.refusals", description: "Creates and joins refused for a tenant's limit, by tenant and limit.");

    private readonly bool _enabled = options.Value.MultitenancyEnabled;

    /// <summary>Marks a create with its tenant and applies the per-meeting participant cap; a FAILED answer when the create asks for more.</summary>
    public BbbError? PrepareCreate(BbbParameters parameters, Tenant tenant)
    {
        if (!_enabled)
        {
            return null;
        }

        if (tenant.IsDefault)
        {
            parameters.Remove("meta_tenant-id").Remove("meta_tenant-name");
        }
        else
        {
            parameters.Set("meta_tenant-id", tenant.Id).Set("meta_tenant-name", tenant.Name);
        }

        if (tenant.Limits.MaxMeetingParticipants is { } cap)
        {
            var asked = int.TryParse(parameters["maxParticipants"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
            if (asked > cap)
            {
                return Refuse(tenant, "maxParticipants", TenantErrors.MaxParticipantsReached(cap));
            }

            if (asked <= 0)
            {
                parameters.Set("maxParticipants", cap.ToString(CultureInfo.InvariantCulture));
            }
        }

        return null;
    }

    /// <summary>The name of the create lock of a meeting: the tenant's meeting key, or with multitenancy the bare meeting ID.</summary>
    public string LockMember(string tenantId, string meetingId) =>
        _enabled ? TenantMeetings.LockMember(meetingId) : MeetingRegistry.MeetingKey(tenantId, meetingId);

    /// <summary>
    /// Called under the create lock, before a new meeting is placed: refuses a meeting ID another tenant runs and a
    /// tenant at its meeting limit, else counts the meeting in.
    /// </summary>
    public async Task<BbbError?> AdmitAsync(Tenant tenant, string meetingId, string member)
    {
        if (!_enabled)
        {
            return null;
        }

        if (await meetings.HeldByAnotherAsync(meetingId, tenant.Id, directory.All.Select(t => t.Id).Append(Tenant.DefaultId)))
        {
            return TenantErrors.MeetingIdTaken;
        }

        return await meetings.TryReserveAsync(tenant.Id, member, tenant.Limits.MaxMeetings)
            ? null
            : Refuse(tenant, "meetings", TenantErrors.MeetingLimitReached(tenant.Limits.MaxMeetings!.Value));
    }

    /// <summary>Whose meetings getMeetings lists: the tenant's with multitenancy, else everyone's (null: no filter, the fastest merge).</summary>
    public string? MeetingListFilter(Tenant tenant) => _enabled ? tenant.Id : null;

    /// <summary>A join refused because the tenant's meetings hold its participant limit already (the poller's count).</summary>
    public BbbError? JoinRefusal(Tenant tenant) =>
        tenant.Limits.MaxParticipants is { } max && directory.UsageOf(tenant.Id).Participants >= max
            ? Refuse(tenant, "participants", TenantErrors.AttendeeLimitReached(max))
            : null;

    private static BbbError Refuse(Tenant tenant, string limit, BbbError error)
    {
        Refusals.Add(1, new KeyValuePair<string, object?>("tenant", tenant.Name), new KeyValuePair<string, object?>("limit", limit));
        return error;
    }
}
