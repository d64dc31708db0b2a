using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Health;

namespace Scalelite.Core.Tenancy;

/// <summary>The poller's count of each tenant's meetings and participants, for the limits, the operator API and the metrics.</summary>
/// <remarks>
/// After every poll cycle (multitenancy only): the meetings of every server that answered, breakout rooms left out,
/// summed per tenant (their <c>meta_tenant-id</c>), written to <see cref="TenantUsageStore"/> as a whole, and each
/// meeting added to its tenant's set in <see cref="TenantMeetings"/>, so that the meeting count heals after a Redis
/// loss. The gauges are labelled with tenant names, one series per known tenant (and <c>default</c>): an id that no
/// tenant has any more is counted as <c>unknown</c>, so the number of series is bounded by the number of tenants.
/// </remarks>
public sealed partial class TenantUsageRecorder
{
    public static readonly Meter Meter = new("Scalelite.Tenancy");

    private readonly IDbContextFactory<ScaleliteDbContext> _databases;
    private readonly TenantUsageStore _store;
    private readonly TenantMeetings _meetings;
    private readonly ILogger<TenantUsageRecorder> _logger;
    private readonly bool _enabled;
    private volatile IReadOnlyList<Row> _rows = [];

    private sealed record Row(string Tenant, TenantUsage Usage, TenantLimits Limits);

    public TenantUsageRecorder(
        IDbContextFactory<ScaleliteDbContext> databases, TenantUsageStore store, TenantMeetings meetings, IOptions<ScaleliteOptions> options, ILogger<TenantUsageRecorder> logger)
    {
        _logger = logger;
        _databases = databases;
        _store = store;
        _meetings = meetings;
        _enabled = options.Value.MultitenancyEnabled;
        if (_enabled)
        {
            Meter.CreateObservableGauge("scalelite.tenant.meetings", () => Measure(r => r.Usage.Meetings), description: "Meetings a tenant runs, as the poller counted them.");
            Meter.CreateObservableGauge("scalelite.tenant.participants", () => Measure(r => r.Usage.Participants), description: "Participants in a tenant's meetings, as the poller counted them.");
            Meter.CreateObservableGauge("scalelite.tenant.limit.meetings", () => Measure(r => r.Limits.MaxMeetings), description: "A tenant's limit of meetings at once.");
            Meter.CreateObservableGauge("scalelite.tenant.limit.participants", () => Measure(r => r.Limits.MaxParticipants), description: "A tenant's limit of participants at once.");
        }
    }

    /// <summary>Records the cycle's counts; a failure is logged and leaves the last counts in place, never fails the cycle.</summary>
    public async Task RecordAsync(IReadOnlyList<ProbeResult> probes, CancellationToken ct)
    {
        if (!_enabled)
        {
            return;
        }

        try
        {
            await RecordCoreAsync(probes, ct);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Log.RecordFailed(_logger, e.Message);
        }
    }

    private async Task RecordCoreAsync(IReadOnlyList<ProbeResult> probes, CancellationToken ct)
    {
        var usage = new Dictionary<string, TenantUsage>(StringComparer.Ordinal);
        var members = new List<(string TenantId, string Member)>();
        foreach (var meeting in probes.Where(p => p.Success).SelectMany(p => p.Meetings).Where(m => !m.IsBreakout))
        {
            var tenant = meeting.TenantId ?? Tenant.DefaultId;
            var sum = usage.GetValueOrDefault(tenant);
            usage[tenant] = new TenantUsage(sum.Meetings + 1, sum.Participants + meeting.Participants);
            members.Add((tenant, meeting.Member));
        }

        await _store.WriteAsync(usage);
        await _meetings.AddAsync(members);

        await using var db = await _databases.CreateDbContextAsync(ct);
        var tenants = await db.Tenants.AsNoTracking().Select(t => new { t.Id, t.Name, t.MaxMeetings, t.MaxParticipants, t.MaxMeetingParticipants }).ToListAsync(ct);
        var known = tenants.Select(t => t.Id).Append(Tenant.DefaultId).ToHashSet(StringComparer.Ordinal);
        var unknown = usage.Where(u => !known.Contains(u.Key)).Aggregate(TenantUsage.None, (a, u) => new TenantUsage(a.Meetings + u.Value.Meetings, a.Participants + u.Value.Participants));
        _rows = [
            .. tenants.Select(t => new Row(t.Name, usage.GetValueOrDefault(t.Id), new TenantLimits(t.MaxMeetings, t.MaxParticipants, t.MaxMeetingParticipants))),
            new Row(Tenant.DefaultName, usage.GetValueOrDefault(Tenant.DefaultId), TenantLimits.None),
            new Row("unknown", unknown, TenantLimits.None),
        ];
    }

    private IEnumerable<Measurement<int>> Measure(Func<Row, int?> value)
    {
        foreach (var row in _rows)
        {
            if (value(row) is { } v)
            {
                yield return new Measurement<int>(v, new KeyValuePair<string, object?>("tenant", row.Tenant));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Could not record the tenants' usage: {Error}")]
        public static partial void RecordFailed(ILogger logger, string error);
    }
}
