using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Scalelite.Core.Diagnostics;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;

namespace Scalelite.Core.Monitoring.Canary;

/// <summary>One canary round: a run on every enabled, online server at once, its results kept for the alert check.</summary>
/// <remarks>
/// The servers come from PostgreSQL as the poller last judged them; a cordoned, disabled or offline server gets no run
/// (it takes no new meetings, and <c>server-offline</c> speaks for a dead one). While PostgreSQL does not answer the round
/// is skipped and the last results stand. Each server's run has its own timeouts, so a hung server delays no other.
/// A failure is logged when it begins or changes step, and the recovery once: not on every round.
/// </remarks>
public sealed partial class CanaryRunner(
    IDbContextFactory<ScaleliteDbContext> databases, CanaryProbe probe, CanaryResults results, TimeProvider time, ILogger<CanaryRunner> logger)
{
    private readonly OutageLog _postgres = new(logger, "PostgreSQL", time);

    public async Task<IReadOnlyList<CanaryResult>> RunOnceAsync(CancellationToken ct)
    {
        List<ServerSnapshot> servers;
        try
        {
            await using var db = await databases.CreateDbContextAsync(ct);
            servers = [.. (await db.Servers.AsNoTracking().Where(s => s.State == ServerState.Enabled && s.Online).OrderBy(s => s.Id).ToListAsync(ct))
                .Select(ServerSnapshot.From)];
            _postgres.Succeeded();
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e))
        {
            _postgres.Failed(e);
            return [];
        }

        var round = await Task.WhenAll(servers.Select(s => probe.RunAsync(s, ct)));
        foreach (var (before, after) in results.Record(round))
        {
            Report(before, after);
        }

        return round;
    }

    private void Report(CanaryStatus? before, CanaryStatus after)
    {
        var run = after.Latest;
        var internalId = run.InternalMeetingId ?? string.Empty;
        if (run.Failure is { } failure)
        {
            if (before?.Latest.Failure?.Step != failure.Step)
            {
                Log.Failed(logger, failure.Step, failure.Duration.TotalSeconds, failure.Answer ?? string.Empty, run.MeetingId, internalId, run.ServerId, run.ServerHost, string.Empty);
            }

            return;
        }

        if (before?.Latest.Failure is { } earlier)
        {
            Log.Recovered(logger, earlier.Step, before.ConsecutiveFailures, run.MeetingId, internalId, run.ServerId, run.ServerHost, string.Empty);
        }
        else if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.Passed(logger, string.Join(", ", run.Steps.Select(s => $"{s.Step} {s.Duration.TotalMilliseconds:0} ms")), run.MeetingId, internalId, run.ServerId, run.ServerHost, string.Empty);
        }
    }

    private const string Fields = " meetingID={meetingID} internalMeetingID={internalMeetingID} serverId={serverId} serverHost={serverHost} tenant={tenant}";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Canary failed at {step} after {seconds:0.0} s: {answer};" + Fields)]
        public static partial void Failed(ILogger logger, string step, double seconds, string answer, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(2, LogLevel.Information, "Canary passes again (it failed at {step} {failures} time(s) in a row);" + Fields)]
        public static partial void Recovered(ILogger logger, string step, int failures, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(3, LogLevel.Debug, "Canary passed: {steps};" + Fields)]
        public static partial void Passed(ILogger logger, string steps, string meetingId, string internalMeetingId, string serverId, string serverHost, string tenant);
    }
}
