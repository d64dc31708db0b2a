using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Scalelite.Api.Recordings;

/// <summary>Turns a <see cref="RecordingFilter"/> into the SQL that selects one page of recordings, newest first.</summary>
/// <remarks>
/// Each filter is written so that an index of <c>RecordingConfiguration</c> serves it: one meetingID as an equality
/// on (tenant_id, meeting_id, start_time), which also yields the order; recordID prefixes as <c>LIKE 'p%'</c> on the
/// <c>text_pattern_ops</c> index; <c>meta_</c> as a semi-join through (key, value); no filter as a backward scan of
/// (tenant_id, start_time). Ties on start time are broken by id so that pages never overlap. Pages after the first
/// continue from the last row seen (keyset) instead of a growing OFFSET, so streaming every match costs the same per
/// row at the end as at the start.
/// </remarks>
public static class RecordingQuery
{
    public const string Columns =
        "r.id, r.record_id, r.meeting_id, r.internal_meeting_id, r.name, r.is_breakout, r.published, r.state, " +
        "r.start_time, r.end_time, r.participants, r.raw_size, r.protected";

    /// <summary>The position after which the next page starts.</summary>
    public readonly record struct Cursor(DateTimeOffset StartTime, long Id);

    /// <summary>How many recordings match <paramref name="filter"/> (BBB 2.6's <c>totalElements</c>).</summary>
    public static NpgsqlCommand Count(string tenantId, RecordingFilter filter)
    {
        var command = new NpgsqlCommand();
        var sql = new StringBuilder("SELECT count(*) FROM recordings r WHERE ");
        Where(command, sql, tenantId, filter);
        command.CommandText = sql.ToString();
        return command;
    }

    public static NpgsqlCommand Page(string tenantId, RecordingFilter filter, int pageSize, int offset, Cursor? after)
    {
        var command = new NpgsqlCommand();
        var sql = new StringBuilder("SELECT ").Append(Columns).Append(" FROM recordings r WHERE ");
        Where(command, sql, tenantId, filter);

        if (after is { } cursor)
        {
            var time = Add(command, cursor.StartTime);
            sql.Append(" AND r.start_time <= ").Append(time)
                .Append(" AND (r.start_time < ").Append(time).Append(" OR r.id < ").Append(Add(command, cursor.Id)).Append(')');
        }

        sql.Append(" ORDER BY r.start_time DESC, r.id DESC LIMIT ").Append(Add(command, pageSize));
        if (offset > 0)
        {
            // Skipping rows by count has to walk them; the inner query walks only the covering index
            // (tenant_id, start_time, id) INCLUDE (state), without a heap fetch per skipped row, and the outer one
            // reads the page's rows alone.
            sql.Append(" OFFSET ").Append(Add(command, offset));
            var inner = sql.ToString().Replace("SELECT " + Columns + " FROM", "SELECT r.id FROM", StringComparison.Ordinal);
            sql.Clear().Append("SELECT ").Append(Columns).Append(" FROM recordings r WHERE r.id IN (").Append(inner)
                .Append(") ORDER BY r.start_time DESC, r.id DESC");
        }

        command.CommandText = sql.ToString();
        return command;
    }

    /// <summary>The conditions of <paramref name="filter"/>, shared by a page and the count.</summary>
    /// <remarks>
    /// Several <c>meta_</c> keys are ORed, as Scalelite combines them (a recording matches when any one of them
    /// matches); BBB itself ANDs them. LMSs written against Scalelite rely on the OR, and one key (the common case)
    /// means the same in both.
    /// </remarks>
    private static void Where(NpgsqlCommand command, StringBuilder sql, string tenantId, RecordingFilter filter)
    {
        sql.Append("r.tenant_id = ").Append(Add(command, tenantId));

        if (filter.States is { } states)
        {
            sql.Append(" AND r.state = ANY(").Append(Add(command, states.ToArray())).Append(')');
        }

        if (filter.RecordIdPrefixes.Count > 0)
        {
            sql.Append(" AND (");
            for (var i = 0; i < filter.RecordIdPrefixes.Count; i++)
            {
                sql.Append(i == 0 ? string.Empty : " OR ").Append("r.record_id LIKE ").Append(Add(command, LikePrefix(filter.RecordIdPrefixes[i])));
            }

            sql.Append(')');
        }
        else if (filter.MeetingIds.Count > 0)
        {
            sql.Append(" AND r.meeting_id").Append(AnyOf(command, filter.MeetingIds));
        }

        for (var i = 0; i < filter.Metadata.Count; i++)
        {
            var meta = filter.Metadata[i];
            sql.Append(i == 0 ? " AND (" : " OR ")
                .Append("EXISTS (SELECT 1 FROM recording_metadata m WHERE m.recording_id = r.id AND m.key = ")
                .Append(Add(command, meta.Key)).Append(" AND m.value").Append(AnyOf(command, meta.Values)).Append(')');
        }

        if (filter.Metadata.Count > 0)
        {
            sql.Append(')');
        }
    }

    /// <summary>The metadata, formats and thumbnails of a page of recordings, in one round trip.</summary>
    public static NpgsqlBatch Details(long[] ids)
    {
        var batch = new NpgsqlBatch();
        batch.BatchCommands.Add(WithIds("SELECT recording_id, key, value FROM recording_metadata WHERE recording_id = ANY($1) ORDER BY recording_id, id", ids));
        batch.BatchCommands.Add(WithIds(
            "SELECT id, recording_id, format, url, processing_time, duration, size FROM playback_formats " +
            "WHERE recording_id = ANY($1) ORDER BY recording_id, format", ids));
        batch.BatchCommands.Add(WithIds(
            "SELECT t.playback_format_id, t.url, t.width, t.height, t.alt FROM thumbnails t " +
            "JOIN playback_formats f ON f.id = t.playback_format_id WHERE f.recording_id = ANY($1) ORDER BY t.playback_format_id, t.sequence, t.id", ids));
        return batch;
    }

    /// <summary>A LIKE pattern matching values that start with <paramref name="prefix"/> literally.</summary>
    public static string LikePrefix(string prefix) =>
        prefix.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    private static NpgsqlBatchCommand WithIds(string sql, long[] ids)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        return command;
    }

    /// <summary>One value as an equality (so an index also yields the order), several as <c>= ANY</c>.</summary>
    private static string AnyOf(NpgsqlCommand command, IReadOnlyList<string> values) =>
        values.Count == 1 ? " = " + Add(command, values[0]) : " = ANY(" + Add(command, values.ToArray()) + ")";

    private static string Add(NpgsqlCommand command, object value)
    {
        var name = "p" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        command.Parameters.AddWithValue(name, value);
        return "@" + name;
    }
}
