using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Scalelite.Core.Meetings.History;

/// <summary>A server a placement chose among, as the history keeps it.</summary>
public sealed record HistoryCandidate(string ServerId, double? Load, bool Chosen, bool Answered);

/// <summary>
/// One change to the meeting history, written by <see cref="MeetingHistoryWriter"/> as one SQL statement of a batch.
/// </summary>
/// <remarks>
/// Every statement is an upsert keyed by the internalMeetingID (one meeting a server ran), because the services write
/// on their own schedules: the poller may report an end before the API's create reaches PostgreSQL (a create queued
/// through a PostgreSQL outage), and an import may come first for a meeting created before the history existed. So a
/// change fills in what it knows and leaves the rest: an end never clears a create, a create never clears an end, and
/// the first end recorded wins. Joins, which the join path knows only by meeting ID and server, go to that meeting's
/// latest row.
/// </remarks>
public abstract record MeetingHistoryChange
{
    public const int MaxDetailLength = 512;

    internal abstract NpgsqlBatchCommand ToCommand();

    private protected static NpgsqlParameter Text(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Varchar, Value = (object?)value ?? DBNull.Value };

    private protected static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } v ? v.ToUniversalTime() : DBNull.Value };

    private protected static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private protected static string? Clip(string? text, int length) => text is { } t && t.Length > length ? t[..length] : text;
}

/// <summary>A create placed the meeting: where, and among which servers with which loads.</summary>
public sealed record MeetingCreatedChange(MeetingIdentity Meeting, DateTimeOffset At, IReadOnlyList<HistoryCandidate> Candidates) : MeetingHistoryChange
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal override NpgsqlBatchCommand ToCommand() => Command("""
        INSERT INTO meeting_history (tenant_id, meeting_id, internal_meeting_id, server_id, server_host, origin, created_at, candidates, joins, updated_at)
        VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, 0, $6)
        ON CONFLICT (internal_meeting_id) DO UPDATE SET
          tenant_id = EXCLUDED.tenant_id, meeting_id = EXCLUDED.meeting_id, server_id = EXCLUDED.server_id, server_host = EXCLUDED.server_host,
          origin = 'created', created_at = EXCLUDED.created_at, candidates = EXCLUDED.candidates, updated_at = GREATEST(meeting_history.updated_at, EXCLUDED.updated_at)
        """,
        Text(Meeting.Tenant), Text(Meeting.MeetingId), Text(Meeting.InternalMeetingId), Text(Meeting.ServerId), Text(Meeting.ServerHost), Time(At),
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(Candidates, Json) });
}

/// <summary>A meeting found running that nobody had recorded (a Redis loss healed, or a meeting made on the node itself).</summary>
public sealed record MeetingAdoptedChange(MeetingIdentity Meeting, DateTimeOffset CreatedAt, DateTimeOffset At) : MeetingHistoryChange
{
    internal override NpgsqlBatchCommand ToCommand() => Command("""
        INSERT INTO meeting_history (tenant_id, meeting_id, internal_meeting_id, server_id, server_host, origin, created_at, joins, updated_at)
        VALUES ($1, $2, $3, $4, $5, 'adopted', $6, 0, $7)
        ON CONFLICT (internal_meeting_id) DO UPDATE SET
          server_id = COALESCE(meeting_history.server_id, EXCLUDED.server_id), server_host = COALESCE(meeting_history.server_host, EXCLUDED.server_host),
          origin = COALESCE(meeting_history.origin, EXCLUDED.origin), created_at = COALESCE(meeting_history.created_at, EXCLUDED.created_at)
        """,
        Text(Meeting.Tenant), Text(Meeting.MeetingId), Text(Meeting.InternalMeetingId), Text(Meeting.ServerId), Text(Meeting.ServerHost), Time(CreatedAt), Time(At));
}

/// <summary>Joins counted in memory since the last flush, added to the meeting's latest row on that server.</summary>
public sealed record MeetingJoinsChange(string Tenant, string MeetingId, string ServerId, long Count, DateTimeOffset At) : MeetingHistoryChange
{
    internal override NpgsqlBatchCommand ToCommand() => Command("""
        UPDATE meeting_history SET joins = joins + $4, first_join_at = COALESCE(first_join_at, $5), last_join_at = $5, updated_at = $5
        WHERE id = (SELECT id FROM meeting_history WHERE tenant_id = $1 AND meeting_id = $2 AND server_id = $3
                    ORDER BY created_at DESC NULLS LAST, id DESC LIMIT 1)
        """,
        Text(Tenant), Text(MeetingId), Text(ServerId), new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = (int)Math.Min(Count, int.MaxValue) }, Time(At));
}

/// <summary>The pool is done with the meeting, and who or what ended it.</summary>
public sealed record MeetingEndedChange(MeetingIdentity Meeting, DateTimeOffset At, string EndedBy, string? Detail) : MeetingHistoryChange
{
    internal override NpgsqlBatchCommand ToCommand()
    {
        var detail = Text(Clip(Detail, MaxDetailLength));
        if (Meeting.InternalMeetingId is { Length: > 0 })
        {
            return Command("""
                INSERT INTO meeting_history (tenant_id, meeting_id, internal_meeting_id, server_id, server_host, joins, ended_at, ended_by, end_detail, updated_at)
                VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $6)
                ON CONFLICT (internal_meeting_id) DO UPDATE SET
                  ended_at = COALESCE(meeting_history.ended_at, EXCLUDED.ended_at),
                  end_detail = CASE WHEN meeting_history.ended_by IS NULL THEN EXCLUDED.end_detail ELSE meeting_history.end_detail END,
                  ended_by = COALESCE(meeting_history.ended_by, EXCLUDED.ended_by),
                  server_id = COALESCE(meeting_history.server_id, EXCLUDED.server_id), server_host = COALESCE(meeting_history.server_host, EXCLUDED.server_host),
                  updated_at = GREATEST(meeting_history.updated_at, EXCLUDED.updated_at)
                """,
                Text(Meeting.Tenant), Text(Meeting.MeetingId), Text(Meeting.InternalMeetingId), Text(Meeting.ServerId), Text(Meeting.ServerHost), Time(At), Text(EndedBy), detail);
        }

        // Without the internalMeetingID (the registry had lost it): the latest open row of the meeting on that server.
        return Command("""
            UPDATE meeting_history SET ended_at = $4, ended_by = $5, end_detail = $6, updated_at = $4
            WHERE id = (SELECT id FROM meeting_history WHERE tenant_id = $1 AND meeting_id = $2 AND ($3::varchar IS NULL OR server_id = $3) AND ended_at IS NULL
                        ORDER BY created_at DESC NULLS LAST, id DESC LIMIT 1)
            """,
            Text(Meeting.Tenant), Text(Meeting.MeetingId), Text(Meeting.ServerId), Time(At), Text(EndedBy), detail);
    }
}

/// <summary>A recording of the meeting was imported; its delay runs from the meeting's end (else the recording's) to now.</summary>
public sealed record RecordingImportedChange(MeetingIdentity Meeting, string RecordId, string[] Formats, DateTimeOffset At, DateTimeOffset RecordingEnd) : MeetingHistoryChange
{
    internal override NpgsqlBatchCommand ToCommand() => Command("""
        INSERT INTO meeting_history_recordings (tenant_id, meeting_id, internal_meeting_id, record_id, formats, imported_at, last_imported_at, meeting_ended_at, import_delay_seconds)
        SELECT $1, $2, $3, $4, $5, $6, $6, e.ended, EXTRACT(EPOCH FROM ($6 - e.ended))::double precision
        FROM (SELECT COALESCE((SELECT ended_at FROM meeting_history WHERE internal_meeting_id = $3), $7) AS ended) e
        ON CONFLICT (record_id) DO UPDATE SET
          formats = ARRAY(SELECT DISTINCT f FROM unnest(meeting_history_recordings.formats || EXCLUDED.formats) AS f ORDER BY f),
          last_imported_at = EXCLUDED.last_imported_at
        """,
        Text(Meeting.Tenant), Text(Meeting.MeetingId), Text(Meeting.InternalMeetingId), Text(RecordId),
        new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = Formats }, Time(At), Time(RecordingEnd));
}
