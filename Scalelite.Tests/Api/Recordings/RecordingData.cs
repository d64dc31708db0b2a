using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Core.Recordings;

namespace Scalelite.Tests.Api.Recordings;

/// <summary>Puts recordings straight into the index, and their files on a temporary volume, as an import would.</summary>
internal sealed class RecordingData(IDbContextFactory<ScaleliteDbContext> contexts, string publishDir, string unpublishDir)
{
    public string PublishDir { get; } = publishDir;

    public string UnpublishDir { get; } = unpublishDir;

    public static readonly DateTimeOffset Epoch = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A recording as a BBB server at bbb1.example.org would describe it: presentation (with thumbnails) and podcast.</summary>
    public static Recording New(string recordId, string meetingId, DateTimeOffset? start = null, string state = RecordingState.Published)
    {
        var begin = start ?? Epoch;
        return new Recording
        {
            RecordId = recordId,
            MeetingId = meetingId,
            InternalMeetingId = recordId,
            Name = "Lecture <1> & \"more\"",
            IsBreakout = false,
            Published = state == RecordingState.Published,
            State = state,
            StartTime = begin,
            EndTime = begin.AddMinutes(42),
            Participants = 7,
            RawSize = 7_219_530,
            CreatedAt = begin,
            UpdatedAt = begin,
            Metadata =
            [
                new RecordingMetadata { Key = "bbb-origin", Value = "Moodle" },
                new RecordingMetadata { Key = "bbb-recording-tags", Value = string.Empty },
                new RecordingMetadata { Key = "course", Value = "physics" },
            ],
            Formats =
            [
                new PlaybackFormat
                {
                    Format = "presentation",
                    Url = $"https://bbb1.example.org/playback/presentation/2.3/{recordId}",
                    ProcessingTime = 2973,
                    Duration = 31_900_000,
                    Size = 168_019,
                    Thumbnails =
                    [
                        new Thumbnail { Url = $"https://bbb1.example.org/presentation/{recordId}/presentation/d2d9/thumbnails/thumb-1.png", Width = 176, Height = 136, Alt = "Welcome", Sequence = 0 },
                        new Thumbnail { Url = $"https://bbb1.example.org/presentation/{recordId}/presentation/d2d9/thumbnails/thumb-2.png", Width = 176, Height = 136, Alt = "Course", Sequence = 1 },
                    ],
                },
                new PlaybackFormat
                {
                    Format = "podcast",
                    Url = $"https://bbb1.example.org/podcast/{recordId}/audio.ogg",
                    ProcessingTime = 111,
                    Duration = 29_000,
                    Size = 10_500,
                },
            ],
        };
    }

    /// <summary>Adds the recordings to the index and writes a file for each format where their state says it lives.</summary>
    public async Task AddAsync(params Recording[] recordings)
    {
        await using (var db = await contexts.CreateDbContextAsync())
        {
            db.Recordings.AddRange(recordings);
            await db.SaveChangesAsync();
        }

        foreach (var recording in recordings.Where(r => r.State is RecordingState.Published or RecordingState.Unpublished))
        {
            foreach (var format in recording.Formats)
            {
                var dir = FormatDir(format.Format, recording.RecordId, recording.State == RecordingState.Published);
                Directory.CreateDirectory(dir);
                await File.WriteAllTextAsync(Path.Combine(dir, "metadata.xml"), "<recording/>");
            }
        }
    }

    public string FormatDir(string format, string recordId, bool published) =>
        Path.Combine(published ? PublishDir : UnpublishDir, format, recordId);

    public async Task<Recording?> FindAsync(string recordId)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Recordings.AsNoTracking().Include(r => r.Metadata).Include(r => r.TextTracks).SingleOrDefaultAsync(r => r.RecordId == recordId);
    }
}
