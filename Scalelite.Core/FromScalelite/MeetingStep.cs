namespace Scalelite.Core.FromScalelite;

/// <summary>
/// The meetings running now (Scalelite's <c>meeting:&lt;id&gt;</c> hashes) are registered here with their owner and voice
/// bridge, so that joins and dial-in reach them during the switch, before our poller has seen them.
/// </summary>
/// <remarks>
/// Ownership is derived state (the poller adopts what the servers report and forgets what they no longer run), so it
/// has no ledger: a meeting we already know is left as it is, even when Scalelite names another owner, because our
/// registry is then newer than Scalelite's. Each meeting is adopted atomically (a create placing it here at the same
/// moment wins) and keeps its voice bridge reserved, so that no new meeting is given its number.
/// </remarks>
internal sealed class MeetingStep : IMigrationStep
{
    public const string Name = "meetings";

    public async Task RunAsync(MigrationContext context, CancellationToken ct)
    {
        var report = context.Report.Add(new StepReport(Name));
        foreach (var meeting in await context.Source.ReadMeetingsAsync())
        {
            ct.ThrowIfCancellationRequested();
            if (meeting.TenantId is { } scaleliteTenant)
            {
                context.MeetingTenants[meeting.MeetingId] = scaleliteTenant;
            }

            if (context.Tenants.Map(meeting.TenantId) is not { } tenantId)
            {
                context.Wait(Name);
                continue;
            }

            if (!context.ServerIds.Contains(meeting.ServerId))
            {
                report.Skip($"meeting {meeting.MeetingId}: its server {meeting.ServerId} is not here");
                continue;
            }

            var owner = await context.Registry.FindServerIdAsync(tenantId, meeting.MeetingId);
            if (owner == meeting.ServerId)
            {
                report.Count(SyncDecision.Unchanged);
                continue;
            }

            if (owner is not null)
            {
                report.Count(SyncDecision.Conflict, $"! meeting {meeting.MeetingId}: on server {owner} here, on {meeting.ServerId} in Scalelite; ours kept");
                continue;
            }

            var voiceBridge = meeting.VoiceBridge;
            if (voiceBridge is not null && await context.Registry.FindByVoiceBridgeAsync(voiceBridge) is { } holder
                && (holder.TenantId, holder.MeetingId) != (tenantId, meeting.MeetingId))
            {
                report.Details.Add($"meeting {meeting.MeetingId}: its voice bridge {voiceBridge} belongs to meeting {holder.MeetingId} here; dial-in will reach that one");
                voiceBridge = null;
            }

            if (!context.DryRun)
            {
                await context.Registry.AdoptAsync(tenantId, meeting.MeetingId, meeting.ServerId, context.Now, null, context.MeetingTtl, voiceBridge);
            }

            report.Count(SyncDecision.Add, $"+ meeting {meeting.MeetingId} on server {meeting.ServerId}{(voiceBridge is null ? string.Empty : $", voice bridge {voiceBridge}")}");
        }
    }
}
