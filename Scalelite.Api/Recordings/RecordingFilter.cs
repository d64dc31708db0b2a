using System.Globalization;
using Scalelite.Core.Bbb;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Recordings;

/// <summary>What a getRecordings call asks for, parsed and validated from its parameters.</summary>
/// <remarks>
/// As BBB: a recordID list wins over a meetingID list (the meetingIDs are then ignored); recordIDs match by prefix,
/// meetingIDs exactly. <c>state</c> defaults to published and unpublished, so deleted recordings only show with
/// <c>state=deleted</c> or <c>state=any</c>. Each <c>meta_K=v1,v2</c> matches the recordings whose K is one of the
/// values, and several keys are ORed as Scalelite ORs them (<see cref="RecordingQuery"/>). Pagination is BBB 2.6's: <c>offset</c> &gt;= 0 and <c>limit</c> 1..100; without a limit every match is
/// returned (streamed).
/// </remarks>
public sealed record RecordingFilter(
    IReadOnlyList<string> MeetingIds,
    IReadOnlyList<string> RecordIdPrefixes,
    IReadOnlyList<string>? States,
    IReadOnlyList<MetadataFilter> Metadata,
    int Offset,
    int? Limit)
{
    public const int MaxLimit = 100;

    /// <summary>The <c>state</c> value that lists recordings in every state.</summary>
    public const string AnyState = "any";

    public static readonly IReadOnlyList<string> DefaultStates = [RecordingState.Published, RecordingState.Unpublished];

    public static readonly BbbError InvalidOffset = new("invalidParamOffset", "The offset parameter must be an integer of 0 or more.");
    public static readonly BbbError InvalidLimit = new("invalidParamLimit", "The limit parameter must be an integer from 1 to 100.");
    public static readonly BbbError MissingFilter = new("missingParameters", "param meetingID or recordID must be included.");

    public static (RecordingFilter? Filter, BbbError? Error) Parse(BbbParameters parameters, bool requireIdFilter = false)
    {
        var offset = 0;
        if (parameters["offset"] is { } rawOffset && (!int.TryParse(rawOffset, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset < 0))
        {
            return (null, InvalidOffset);
        }

        int? limit = null;
        if (parameters["limit"] is { } rawLimit)
        {
            if (!int.TryParse(rawLimit, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > MaxLimit)
            {
                return (null, InvalidLimit);
            }

            limit = value;
        }

        var recordIds = List(parameters["recordID"]);
        var meetingIds = recordIds.Count > 0 ? [] : List(parameters["meetingID"]);
        if (requireIdFilter && recordIds.Count == 0 && meetingIds.Count == 0)
        {
            return (null, MissingFilter);
        }

        var states = List(parameters["state"]);
        IReadOnlyList<string>? stateFilter = states.Count == 0 ? DefaultStates : states.Contains(AnyState) ? null : states;

        var metadata = new List<MetadataFilter>();
        foreach (var (key, value) in parameters)
        {
            if (key.StartsWith("meta_", StringComparison.Ordinal) && key.Length > 5)
            {
                // An empty value asks for recordings where the key is empty, as a comma list cannot express that.
                var values = value.Length == 0 ? [string.Empty] : List(value);
                metadata.Add(new MetadataFilter(key[5..], values));
            }
        }

        return (new RecordingFilter(meetingIds, recordIds, stateFilter, metadata, offset, limit), null);
    }

    /// <summary>A comma list with empty entries and duplicates dropped.</summary>
    public static List<string> List(string? value) =>
        string.IsNullOrEmpty(value) ? [] : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
}

public sealed record MetadataFilter(string Key, IReadOnlyList<string> Values);
