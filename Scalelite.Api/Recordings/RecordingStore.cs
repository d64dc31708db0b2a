using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Npgsql;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Recordings;

/// <summary>One recording as getRecordings writes it.</summary>
public sealed class RecordingRow
{
    public long Id { get; init; }
    public required string RecordId { get; init; }
    public required string MeetingId { get; init; }
    public required string InternalMeetingId { get; init; }
    public required string Name { get; init; }
    public bool IsBreakout { get; init; }
    public bool Published { get; init; }
    public required string State { get; init; }
    public DateTimeOffset StartTime { get; init; }
    public DateTimeOffset EndTime { get; init; }
    public int Participants { get; init; }
    public long RawSize { get; init; }
    public bool Protected { get; init; }
    public List<KeyValuePair<string, string>> Metadata { get; } = [];
    public List<FormatRow> Formats { get; } = [];
}

public sealed class FormatRow
{
    public long Id { get; init; }
    public required string Format { get; init; }
    public required string Url { get; init; }
    public long ProcessingTime { get; init; }

    /// <summary>Milliseconds.</summary>
    public long Duration { get; init; }
    public long Size { get; init; }
    public List<ThumbnailRow> Thumbnails { get; } = [];
}

public sealed record ThumbnailRow(string Url, int? Width, int? Height, string? Alt);

/// <summary>Reads getRecordings' answer from PostgreSQL a page at a time.</summary>
/// <remarks>
/// A page is two round trips: the recordings (<see cref="RecordingQuery.Page"/>), then their metadata, formats and
/// thumbnails in one batch. The connection goes back to the pool between pages, so a slow client holds memory for
/// one page and no connection while its answer streams out.
/// </remarks>
public sealed class RecordingStore(NpgsqlDataSource dataSource, IOptions<RecordingOptions> options)
{
    private readonly int _pageSize = options.Value.PageSize;

    public async IAsyncEnumerable<IReadOnlyList<RecordingRow>> PagesAsync(
        string tenantId, RecordingFilter filter, [EnumeratorCancellation] CancellationToken ct)
    {
        var remaining = filter.Limit ?? int.MaxValue;
        var offset = filter.Offset;
        RecordingQuery.Cursor? after = null;
        while (remaining > 0)
        {
            var size = Math.Min(_pageSize, remaining);
            var page = await ReadPageAsync(tenantId, filter, size, offset, after, ct);
            if (page.Count == 0)
            {
                yield break;
            }

            yield return page;
            remaining -= page.Count;
            if (page.Count < size)
            {
                yield break;
            }

            offset = 0;
            after = new RecordingQuery.Cursor(page[^1].StartTime, page[^1].Id);
        }
    }

    /// <summary>How many recordings match, whatever the page asked for.</summary>
    public async Task<long> CountAsync(string tenantId, RecordingFilter filter, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var command = RecordingQuery.Count(tenantId, filter);
        command.Connection = connection;
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private async Task<List<RecordingRow>> ReadPageAsync(
        string tenantId, RecordingFilter filter, int size, int offset, RecordingQuery.Cursor? after, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var rows = new List<RecordingRow>(size);
        await using (var command = RecordingQuery.Page(tenantId, filter, size, offset, after))
        {
            command.Connection = connection;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(new RecordingRow
                {
                    Id = reader.GetInt64(0),
                    RecordId = reader.GetString(1),
                    MeetingId = reader.GetString(2),
                    InternalMeetingId = reader.GetString(3),
                    Name = reader.GetString(4),
                    IsBreakout = reader.GetBoolean(5),
                    Published = reader.GetBoolean(6),
                    State = reader.GetString(7),
                    StartTime = reader.GetFieldValue<DateTimeOffset>(8),
                    EndTime = reader.GetFieldValue<DateTimeOffset>(9),
                    Participants = reader.GetInt32(10),
                    RawSize = reader.GetInt64(11),
                    Protected = reader.GetBoolean(12),
                });
            }
        }

        if (rows.Count == 0)
        {
            return rows;
        }

        var byId = rows.ToDictionary(r => r.Id);
        var formats = new Dictionary<long, FormatRow>();
        await using var batch = RecordingQuery.Details([.. byId.Keys]);
        batch.Connection = connection;
        await using var details = await batch.ExecuteReaderAsync(ct);
        while (await details.ReadAsync(ct))
        {
            byId[details.GetInt64(0)].Metadata.Add(new(details.GetString(1), details.GetString(2)));
        }

        await details.NextResultAsync(ct);
        while (await details.ReadAsync(ct))
        {
            var format = new FormatRow
            {
                Id = details.GetInt64(0),
                Format = details.GetString(2),
                Url = details.GetString(3),
                ProcessingTime = details.GetInt64(4),
                Duration = details.GetInt64(5),
                Size = details.GetInt64(6),
            };
            formats[format.Id] = format;
            byId[details.GetInt64(1)].Formats.Add(format);
        }

        await details.NextResultAsync(ct);
        while (await details.ReadAsync(ct))
        {
            formats[details.GetInt64(0)].Thumbnails.Add(new ThumbnailRow(
                details.GetString(1),
                details.IsDBNull(2) ? null : details.GetInt32(2),
                details.IsDBNull(3) ? null : details.GetInt32(3),
                details.IsDBNull(4) ? null : details.GetString(4)));
        }

        return rows;
    }
}
