using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Bbb;
using Scalelite.Core.Persistence;
using Scalelite.Core.State;

namespace Scalelite.Core.Pool;

/// <summary>The operator's actions on servers, shared by the admin APIs: add, update, delete, panic.</summary>
public sealed class ServerAdministration(
    IDbContextFactory<ScaleliteDbContext> dbFactory,
    MeetingRegistry registry,
    LoadRanking ranking,
    BbbClient client,
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

    /// <summary>Adds a server, disabled (as Scalelite): it takes meetings once an operator enables it.</summary>
    public async Task<(Server? Server, string? Error)> AddAsync(string url, string secret, double? loadMultiplier, string? tag, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(url) || string.IsNullOrWhiteSpace(secret))
        {
            return (null, "Server needs a URL and a secret");
        }

        var normalized = Server.NormalizeUrl(url);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return (null, "The URL must be an absolute http(s) URL");
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Servers.AnyAsync(s => s.Url == normalized, ct))
        {
            return (null, $"A server with url={normalized} already exists");
        }

        var now = time.GetUtcNow();
        var server = new Server
        {
            Url = normalized,
            Secret = secret.Trim(),
            Tag = string.IsNullOrWhiteSpace(tag) ? null : tag.Trim(),
            LoadMultiplier = loadMultiplier is > 0 ? loadMultiplier.Value : 1.0,
            State = ServerState.Disabled,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Servers.Add(server);
        await db.SaveChangesAsync(ct);
        return (server, null);
    }

    public sealed record Update(string? State, double? LoadMultiplier, string? Secret, string? Tag, bool TagGiven);

    public async Task<(Server? Server, string? Error)> UpdateAsync(string id, Update update, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return (null, $"Couldn't find server with id={id}");
        }

        if (update.State is not null)
        {
            ServerState? state = update.State.Trim().ToLowerInvariant() switch
            {
                "enable" or "enabled" => ServerState.Enabled,
                "cordon" or "cordoned" => ServerState.Cordoned,
                "disable" or "disabled" => ServerState.Disabled,
                _ => null,
            };
            if (state is null)
            {
                return (null, $"Invalid state: {update.State} (use enable, cordon or disable)");
            }

            server.State = state.Value;
        }

        if (update.LoadMultiplier is { } multiplier)
        {
            if (multiplier <= 0)
            {
                return (null, "load_multiplier must be a number greater than 0");
            }

            server.LoadMultiplier = multiplier;
        }

        if (update.Secret is { Length: > 0 } secret)
        {
            server.Secret = secret.Trim();
        }

        if (update.TagGiven)
        {
            server.Tag = string.IsNullOrWhiteSpace(update.Tag) ? null : update.Tag.Trim();
        }

        server.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        if (server.State != ServerState.Enabled)
        {
            await ranking.RemoveAsync(server.Id);
        }

        return (server, null);
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var deleted = await db.Servers.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        if (deleted == 0)
        {
            return false;
        }

        await registry.ForgetServerAsync(id);
        await ranking.RemoveAsync(id);
        return true;
    }

    /// <summary>Forgets every meeting of a server and ends them on it (best effort); disables it unless <paramref name="keepState"/>.</summary>
    public async Task<(int Meetings, string? Error)> PanicAsync(string id, bool keepState, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var server = await db.Servers.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (server is null)
        {
            return (0, $"Couldn't find server with id={id}");
        }

        var snapshot = ServerSnapshot.From(server);
        var members = await registry.ForgetServerAsync(id);
        await Task.WhenAll(members.Select(member =>
            client.GetAsync(snapshot, "end", new BbbParameters().Add("meetingID", member[(member.IndexOf(':', StringComparison.Ordinal) + 1)..]), ct: ct)));

        if (!keepState)
        {
            server.State = ServerState.Disabled;
            server.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(ct);
            await ranking.RemoveAsync(id);
        }

        return (members.Count, null);
    }
}
