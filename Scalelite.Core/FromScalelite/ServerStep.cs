using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Lifecycle;

namespace Scalelite.Core.FromScalelite;

/// <summary>Scalelite's servers become ours with the same ids, URLs, secrets, tags, load multipliers and states.</summary>
/// <remarks>
/// The operator's settings (URL, secret, tag, multiplier, state) are what the ledger compares. What Scalelite's
/// poller last saw (online, load, counts, version) is copied only when a server is added, so that joins to its
/// running meetings work before our poller's first cycle; after that the poller owns it. States are copied as they
/// are: the servers were serving, so admission is not asked for again, and a cordoned server drains as usual.
/// </remarks>
internal sealed class ServerStep : IMigrationStep
{
    public const string Name = "servers";
    private const string Actor = "migrate";

    private sealed record Projection(string Id, string Url, string Secret, string? Tag, double LoadMultiplier, string State);

    public async Task RunAsync(MigrationContext context, CancellationToken ct)
    {
        var report = context.Report.Add(new StepReport(Name));
        var sources = await context.Source.ReadServersAsync();
        await using var db = await context.Databases.CreateDbContextAsync(ct);
        var ours = context.TargetReady ? await db.Servers.ToDictionaryAsync(s => s.Id, StringComparer.Ordinal, ct) : [];
        var ledger = await context.LedgerAsync(db, MigrationKinds.Server, [.. sources.Select(s => s.Id)], ct);
        context.ServerIds.UnionWith(ours.Keys);
        var events = new ServerEventLog(context.Databases, new FixedTime(context.Now));

        foreach (var source in sources)
        {
            if (Map(source, report) is not { } wanted)
            {
                continue;
            }

            var server = ours.GetValueOrDefault(source.Id);
            var holder = ours.Values.FirstOrDefault(s => s.Url == wanted.Url && s.Id != source.Id);
            var fingerprint = Fingerprint.Of(wanted);
            var decision = SyncRule.Decide(ledger.GetValueOrDefault(source.Id)?.Fingerprint, fingerprint, server is null ? null : Fingerprint.Of(Project(server)));
            if (decision is SyncDecision.Add or SyncDecision.Update && holder is not null)
            {
                report.Skip($"server {source.Id}: its URL {wanted.Url} is already server {holder.Id} here");
                continue;
            }

            switch (decision)
            {
                case SyncDecision.Add:
                    server = new Server
                    {
                        Id = wanted.Id,
                        Url = wanted.Url,
                        Secret = wanted.Secret,
                        Tag = wanted.Tag,
                        LoadMultiplier = wanted.LoadMultiplier,
                        State = Enum.Parse<ServerState>(wanted.State, true),
                        Online = source.Online,
                        Load = source.Online ? source.Load : null,
                        BbbVersion = source.BbbVersion is { Length: > 0 and <= 64 } version ? version : null,
                        Meetings = source.Meetings,
                        Users = source.Users,
                        LargestMeeting = source.LargestMeeting,
                        Videos = source.Videos,
                        CreatedAt = context.Now,
                        UpdatedAt = context.Now,
                    };
                    db.Servers.Add(server);
                    ours[server.Id] = server;
                    events.Add(db, server.Id, ServerActions.Add, Actor, "migrated from Scalelite", to: server.State);
                    report.Count(decision, $"+ server {server.Id} {server.Url} ({wanted.State}{(source.Online ? ", online" : ", offline")})");
                    break;
                case SyncDecision.Update:
                    var from = server!.State;
                    server.Url = wanted.Url;
                    server.Secret = wanted.Secret;
                    server.Tag = wanted.Tag;
                    server.LoadMultiplier = wanted.LoadMultiplier;
                    server.State = Enum.Parse<ServerState>(wanted.State, true);
                    server.UpdatedAt = context.Now;
                    events.Add(db, server.Id, ServerActions.Update, Actor, "changed in Scalelite", from, server.State);
                    report.Count(decision, $"~ server {server.Id}: taken from Scalelite ({wanted.State})");
                    break;
                case SyncDecision.Conflict:
                    report.Count(decision, $"! server {source.Id}: changed here and in Scalelite since the last run; ours kept");
                    break;
                default:
                    report.Count(decision);
                    break;
            }

            if (decision is SyncDecision.Add or SyncDecision.Update or SyncDecision.Record)
            {
                context.Remember(db, ledger, MigrationKinds.Server, source.Id, wanted.Id, fingerprint);
            }

            context.ServerIds.Add(source.Id);
        }

        var others = ours.Keys.Except(sources.Select(s => s.Id), StringComparer.Ordinal).Count();
        if (others > 0)
        {
            report.Notes.Add($"{others} server(s) here are not in Scalelite: left alone");
        }

        if (!context.DryRun)
        {
            await db.SaveChangesAsync(ct);
        }
    }

    private static Projection Project(Server s) => new(s.Id, s.Url, s.Secret, s.Tag, s.LoadMultiplier, s.State.ToString().ToLowerInvariant());

    /// <summary>Scalelite's server as ours would hold it; null (and a skip) when our schema cannot hold it.</summary>
    private static Projection? Map(SourceServer source, StepReport report)
    {
        if (source.Id.Length > 64)
        {
            report.Skip($"server {source.Id}: an id longer than 64 characters");
            return null;
        }

        if (string.IsNullOrEmpty(source.Secret) || source.Secret.Length > 512)
        {
            report.Skip($"server {source.Id}: {(string.IsNullOrEmpty(source.Secret) ? "no secret" : "a secret longer than 512 characters")}");
            return null;
        }

        var url = source.Url is null ? null : Server.NormalizeUrl(source.Url);
        if (url is null || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            report.Skip($"server {source.Id}: no usable URL ('{source.Url}')");
            return null;
        }

        var tag = string.IsNullOrEmpty(source.Tag) ? null : source.Tag;
        if (tag is { Length: > 256 })
        {
            report.Skip($"server {source.Id}: a tag longer than 256 characters");
            return null;
        }

        var multiplier = 1.0;
        if (source.LoadMultiplier is { } text)
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
            {
                multiplier = parsed;
            }
            else
            {
                report.Details.Add($"server {source.Id}: load_multiplier '{text}' is not a number; 1.0 taken");
            }
        }

        var state = source.State;
        if (state is not ("enabled" or "cordoned" or "disabled"))
        {
            report.Details.Add($"server {source.Id}: unknown state '{state}'; disabled taken");
            state = "disabled";
        }

        return new Projection(source.Id, url, source.Secret, tag, multiplier, state);
    }

    /// <summary>The run's one time, so that every event of a run carries the same instant.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
