using System.Globalization;
using Scalelite.Core.Bbb;

namespace Scalelite.Core.Tenancy;

/// <summary>The FAILED answers of tenancy: limits (beyond Scalelite) and meeting IDs two tenants may not share.</summary>
public static class TenantErrors
{
    /// <summary>BBB's own words for a meeting ID that is taken: a create for a meetingID another tenant runs.</summary>
    public static readonly BbbError MeetingIdTaken = new("idNotUnique", "A meeting already exists with that meeting ID. Please use a different meeting ID.");

    public static BbbError MeetingLimitReached(int max) =>
        new("meetingLimitReached", string.Create(CultureInfo.InvariantCulture, $"The tenant's limit of {max} meetings at once is reached."));

    public static BbbError AttendeeLimitReached(int max) =>
        new("attendeeLimitReached", string.Create(CultureInfo.InvariantCulture, $"The tenant's limit of {max} participants at once is reached."));

    public static BbbError MaxParticipantsReached(int max) =>
        new("maxParticipantsReached", string.Create(CultureInfo.InvariantCulture, $"The tenant allows at most {max} participants per meeting (maxParticipants)."));
}

/// <summary>Whose a meeting is, as a BBB server reports it: the <c>tenant-id</c> metadata a tenant's create carries.</summary>
public static class MeetingTenant
{
    /// <summary>The tenant id of a getMeetingInfo answer (or of one meeting element of getMeetings); the default tenant's when it has none.</summary>
    public static string Of(System.Xml.Linq.XElement? meeting) =>
        meeting?.Element("metadata")?.Element("tenant-id")?.Value is { Length: > 0 } id ? id : Tenant.DefaultId;
}
