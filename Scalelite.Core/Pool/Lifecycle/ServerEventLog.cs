using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;

namespace Scalelite.Core.Pool.Lifecycle;

/// <summary>Well-known actions in the audit trail of servers.</summary>
public static class ServerActions
{
    public const string Add = "add";
    public const string Enable = "enable";
    public const string EnableRefused = "enable-refused";
    public const string Cordon = "cordon";
    public const string Disable = "disable";
    public const string Drain = "drain";
    public const string Drained = "drained";
    public const string Update = "update";
    public const string Panic = "panic";
    public const string Remove = "remove";
    public const string Online = "online";
    public const string Offline = "offline";
    public const string Probe = "probe";
}

/// <summary>Writes and reads the audit trail of server changes (who, when, why, from which state to which).</summary>
public sealed class ServerEventLog(IDbContextFactory<ScaleliteDbContext> dbFactory, TimeProvider time)
{
    /// <summary>Adds an event to <paramref name="db"/>; it is saved with the change it describes, in the same transaction.</summary>
    public ServerEvent Add(ScaleliteDbContext db, string serverId, string action, string actor, string? reason = null, ServerState? from = null, ServerState? to = null)
    {
        var entry = new ServerEvent
        {
            ServerId = serverId,
            Action = Clip(action, 32)!,
            Actor = Clip(string.IsNullOrWhiteSpace(actor) ? "unknown" : actor.Trim(), 128)!,
            Reason = Clip(reason, 1024),
            FromState = from?.ToString().ToLowerInvariant(),
            ToState = to?.ToString().ToLowerInvariant(),
            At = time.GetUtcNow(),
        };
        db.ServerEvents.Add(entry);
        return entry;
    }

    /// <summary>The newest events first, of one server or of the whole pool.</summary>
    public async Task<IReadOnlyList<ServerEvent>> ListAsync(string? serverId, int limit, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var query = db.ServerEvents.AsNoTracking();
        if (!string.IsNullOrEmpty(serverId))
        {
            query = query.Where(e => e.ServerId == serverId);
        }

        return await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(ct);
    }

    private static string? Clip(string? value, int length) => value is { } v && v.Length > length ? v[..length] : value;
}
