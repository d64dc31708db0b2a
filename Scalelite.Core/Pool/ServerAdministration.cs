using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool.Lifecycle;

namespace Scalelite.Core.Pool;

/// <summary>
/// The operator's actions on servers as Scalelite's admin API offers them: add, update, delete, panic.
/// State changes go through <see cref="ServerLifecycle"/>, so its guard rails and audit trail apply here too, and
/// every change answers with the same <see cref="LifecycleResult"/>.
/// </summary>
public sealed class ServerAdministration(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    ServerLifecycle lifecycle,
    ServerEventLog events,
    Microsoft.Extensions.Options.IOptions<Configuration.ScaleliteOptions> options,
    TimeProvider time)
{
    public async Task<IReadOnlyList<Server>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Servers.AsNoTracking().OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToListAsync(ct);
    }

    public async Task<Server?> FindAsync(string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
    }

    /// <summary>
    /// Adds a server, disabled (as Scalelite): it takes meetings once an operator enables it. It is probed at once,
    /// so that its health and version are known without waiting for the next poll.
    /// </summary>
    /// <param name="id">The id the operator chose (as <c>servers:sync</c> adopts a file's key), or null for a generated
    /// one (the host name with <c>SERVER_ID_IS_HOSTNAME</c>).</param>
    public async Task<LifecycleResult> AddAsync(
        string url, string secret, double? loadMultiplier, string? tag, CancellationToken ct, int? capacity = null, Actor? actor = null, string? id = null)
    {
        if (id is not null && !Server.IsValidId(id))
        {
            return LifecycleResult.Rejected($"Server id={id} contains invalid characters (letters, digits, '_', '.' and '-' only, at most {Server.MaxIdLength})");
        }

        if (string.IsNullOrWhiteSpace(url) || string.IsNullOrWhiteSpace(secret))
        {
            return LifecycleResult.Rejected("Server needs a URL and a secret");
        }

        var normalized = Server.NormalizeUrl(url);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return LifecycleResult.Rejected("The URL must be an absolute http(s) URL");
        }

        if (capacity is < 0)
        {
            return LifecycleResult.Rejected("capacity must be a number of users, 0 or more");
        }

        if (loadMultiplier is { } given && !double.IsFinite(given))
        {
            return LifecycleResult.Rejected(MultiplierError);
        }

        actor ??= Actor.AdminApi;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Servers.AnyAsync(s => s.Url == normalized, ct))
        {
            return LifecycleResult.Rejected($"A server with url={normalized} already exists");
        }

        // SERVER_ID_IS_HOSTNAME: the id is the host, as Scalelite names such servers, so ids survive a rebuild of the pool.
        // An id the operator chose wins, as Scalelite's sync keeps the file's key whatever the setting.
        id ??= options.Value.ServerIdIsHostname ? uri.Host.ToLowerInvariant() : null;
        if (id is not null && await db.Servers.AnyAsync(s => s.Id == id, ct))
        {
            return new LifecycleResult(LifecycleStatus.Refused, null, $"Server already exists with id '{id}'");
        }

        var now = time.GetUtcNow();
        var server = new Server
        {
            Url = normalized,
            Secret = secret.Trim(),
            Tag = string.IsNullOrWhiteSpace(tag) ? null : tag.Trim(),
            LoadMultiplier = loadMultiplier is > 0 ? loadMultiplier.Value : 1.0,
            Capacity = capacity,
            State = ServerState.Disabled,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (id is not null)
        {
            server.Id = id;
        }

        db.Servers.Add(server);
        events.Add(db, server.Id, ServerActions.Add, actor.Name, actor.Reason, null, ServerState.Disabled);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // Another add of the same id or URL won the race between the checks above and this insert.
            return new LifecycleResult(LifecycleStatus.Refused, null,
                id is not null ? $"Server already exists with id '{id}' or url={normalized}" : $"A server with url={normalized} already exists");
        }

        var (probed, _) = await lifecycle.ProbeAsync(server.Id, testMeeting: false, actor, ct);
        return new LifecycleResult(LifecycleStatus.Done, probed.Server ?? server);
    }

    private const string MultiplierError = "load_multiplier must be a number greater than 0";

    public sealed record Update(string? State, double? LoadMultiplier, string? Secret, string? Tag, bool TagGiven, int? Capacity = null, bool CapacityGiven = false);

    /// <summary>Changes a server's settings, then its state (enabling only when the server is admitted).</summary>
    public async Task<LifecycleResult> UpdateAsync(string id, Update update, CancellationToken ct, Actor? actor = null)
    {
        actor ??= Actor.AdminApi;
        ServerState? state = null;
        if (update.State is not null && (state = ServerLifecycle.ParseState(update.State)) is null)
        {
            return LifecycleResult.Rejected($"Invalid state: {update.State} (use enable, cordon or disable)");
        }

        if (update.LoadMultiplier is { } m && !(double.IsFinite(m) && m > 0))
        {
            return LifecycleResult.Rejected(MultiplierError);
        }

        if (update.CapacityGiven && update.Capacity is < 0)
        {
            return LifecycleResult.Rejected("capacity must be a number of users, 0 or more");
        }

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
            if (server is null)
            {
                return LifecycleResult.Missing(id);
            }

            var changes = new List<string>();
            if (update.LoadMultiplier is { } multiplier && multiplier != server.LoadMultiplier)
            {
                changes.Add($"load_multiplier {server.LoadMultiplier} -> {multiplier}");
                server.LoadMultiplier = multiplier;
            }

            if (update.Secret is { Length: > 0 } secret && secret.Trim() != server.Secret)
            {
                changes.Add("secret changed");
                server.Secret = secret.Trim();
            }

            var tag = string.IsNullOrWhiteSpace(update.Tag) ? null : update.Tag.Trim();
            if (update.TagGiven && tag != server.Tag)
            {
                changes.Add($"tag {server.Tag ?? "(none)"} -> {tag ?? "(none)"}");
                server.Tag = tag;
            }

            if (update.CapacityGiven && update.Capacity != server.Capacity)
            {
                changes.Add($"capacity {server.Capacity?.ToString() ?? "(none)"} -> {update.Capacity?.ToString() ?? "(none)"}");
                server.Capacity = update.Capacity;
            }

            if (changes.Count > 0)
            {
                server.UpdatedAt = time.GetUtcNow();
                events.Add(db, id, ServerActions.Update, actor.Name, string.Join(", ", changes) + (actor.Reason is { } r ? $" ({r})" : string.Empty));
                await db.SaveChangesAsync(ct);
            }

            if (state is null)
            {
                return new LifecycleResult(LifecycleStatus.Done, server);
            }
        }

        return await lifecycle.SetStateAsync(id, state.Value, actor, ct);
    }

    /// <summary>Deletes a server as Scalelite's deleteServer does: at once, forgetting any meetings it still had.</summary>
    public Task<LifecycleResult> DeleteAsync(string id, CancellationToken ct, Actor? actor = null) =>
        lifecycle.RemoveAsync(id, force: true, actor ?? Actor.AdminApi, ct, endMeetingsWhenForced: false);

    /// <summary>Forgets every meeting of a server and ends them on it (best effort); disables it unless <paramref name="keepState"/>.</summary>
    public Task<(LifecycleResult Result, int Meetings)> PanicAsync(string id, bool keepState, CancellationToken ct, Actor? actor = null) =>
        lifecycle.PanicAsync(id, endMeetings: true, keepState, actor ?? Actor.AdminApi, ct);
}
