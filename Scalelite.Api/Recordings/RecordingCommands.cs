using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Recordings;

/// <summary>publishRecordings, deleteRecordings and updateRecordings: the files on the volume first, then the index.</summary>
/// <remarks>
/// Files move before the row changes, so a crash in between leaves the index naming the old place while the files
/// are in the new one; the LMS's retry then finds nothing to move (moves are idempotent) and updates the row. The
/// opposite order would advertise a playback URL whose files are not there yet. recordIDs match exactly here
/// (prefixes only in getRecordings), and deleted recordings are not found.
/// </remarks>
public sealed class RecordingCommands(IDbContextFactory<ScaleliteDbContext> contexts, RecordingFiles files, TimeProvider time)
{
    /// <returns>False when none of the recordings exists.</returns>
    public async Task<bool> PublishAsync(string tenantId, IReadOnlyList<string> recordIds, bool publish, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var recordings = await Find(db, tenantId, recordIds).Include(r => r.Formats).ToListAsync(ct);
        foreach (var recording in recordings)
        {
            foreach (var format in recording.Formats)
            {
                files.Move(format.Format, recording.RecordId, publish);
            }

            recording.Published = publish;
            recording.State = RecordingState.Of(publish);
            // As Scalelite's publish_updated: the LMS decided, so a later import of the recording keeps it.
            recording.PublishUpdated = true;
            recording.UpdatedAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
        return recordings.Count > 0;
    }

    public async Task<bool> DeleteAsync(string tenantId, IReadOnlyList<string> recordIds, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var recordings = await Find(db, tenantId, recordIds).Include(r => r.Formats).Include(r => r.TextTracks).ToListAsync(ct);
        // The index first, then the files: a failure in between leaves files nobody lists (harmless, removable),
        // never a listed recording whose files are gone.
        foreach (var recording in recordings)
        {
            recording.TextTracks.Clear();
            recording.Published = false;
            recording.State = RecordingState.Deleted;
            recording.DeletedAt = recording.UpdatedAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
        foreach (var recording in recordings)
        {
            foreach (var format in recording.Formats)
            {
                files.Delete(format.Format, recording.RecordId);
            }

            files.DeleteCaptions(recording.RecordId);
        }

        return recordings.Count > 0;
    }

    /// <summary>
    /// Upserts the given metadata (an empty value removes the key) and, when given, the protected flag, on every
    /// recording or, when one of the IDs is not found, on none. True when something was changed (Scalelite's
    /// <c>&lt;updated&gt;</c>).
    /// </summary>
    public async Task<bool> UpdateAsync(
        string tenantId, IReadOnlyList<string> recordIds, IReadOnlyList<KeyValuePair<string, string>> metadata, bool? protect, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var recordings = await Find(db, tenantId, recordIds).Include(r => r.Metadata).ToListAsync(ct);
        // As Scalelite: all or nothing. One ID unknown (or another tenant's) and nothing changes.
        if (recordings.Count != recordIds.Count)
        {
            return false;
        }

        var changed = false;
        foreach (var recording in recordings)
        {
            foreach (var (key, value) in metadata)
            {
                var existing = recording.Metadata.Find(m => m.Key == key);
                if (value.Length == 0)
                {
                    if (existing is not null)
                    {
                        recording.Metadata.Remove(existing);
                        changed = true;
                    }
                }
                else if (existing is null)
                {
                    recording.Metadata.Add(new RecordingMetadata { Key = key, Value = value });
                    changed = true;
                }
                else
                {
                    existing.Value = value;
                    changed = true;
                }
            }

            if (protect is { } value1)
            {
                recording.Protected = value1;
                changed = true;
            }

            recording.UpdatedAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
        return changed;
    }

    /// <summary>A recording that is not deleted, with its formats and text tracks.</summary>
    /// <param name="tenantId">Null for playback, where the recordID alone (unique pool-wide) names the recording.</param>
    public async Task<Recording?> FindAsync(string? tenantId, string recordId, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var query = tenantId is null
            ? db.Recordings.Where(r => r.RecordId == recordId && r.State != RecordingState.Deleted)
            : Find(db, tenantId, [recordId]);
        return await query.AsNoTracking().Include(r => r.Formats).Include(r => r.TextTracks).FirstOrDefaultAsync(ct);
    }

    /// <summary>Records a caption file already in place beside the recording (one per kind and language).</summary>
    public async Task<bool> SaveTextTrackAsync(string tenantId, string recordId, TextTrack track, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var recording = await Find(db, tenantId, [recordId]).Include(r => r.TextTracks).FirstOrDefaultAsync(ct);
        if (recording is null)
        {
            return false;
        }

        var existing = recording.TextTracks.Find(t => t.Kind == track.Kind && t.Lang == track.Lang);
        if (existing is null)
        {
            track.CreatedAt = time.GetUtcNow();
            recording.TextTracks.Add(track);
        }
        else
        {
            existing.Label = track.Label;
            existing.Source = track.Source;
            existing.Path = track.Path;
            existing.CreatedAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(ct);
        return true;
    }

    private static IQueryable<Recording> Find(ScaleliteDbContext db, string tenantId, IReadOnlyList<string> recordIds)
    {
        var ids = recordIds.ToArray();
        return db.Recordings.Where(r => r.TenantId == tenantId && ids.Contains(r.RecordId) && r.State != RecordingState.Deleted);
    }
}
