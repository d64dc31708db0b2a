namespace Scalelite.Core.Bbb;

/// <summary>The rules a client's identifiers pass before anything logs, stores or forwards them.</summary>
/// <remarks>
/// <para><b>meetingID</b> of the meeting calls (create, join, end, getMeetingInfo, isMeetingRunning, insertDocument,
/// sendChatMessage): BBB's own rule (since 2.4, its <c>MeetingIDConstraint</c>): 2 to 256 characters and no comma,
/// answered with BBB's <c>validationError</c>. A meeting ID every BBB server would refuse is refused here before any
/// server is asked, rather than tried on one server after another (a 10,000-character ID drew a 414 from each).</para>
/// <para><b>No control characters</b> in any identifier, meeting IDs and recording filters alike: C0 and C1 controls
/// (NUL, CR, LF, TAB, ESC, NEL, ...) and the Unicode line and paragraph separators. BBB 2.4 to 2.7 refused most of
/// them (their rule allowed printable ASCII and whitespace only); BBB 3.0 allows anything but a comma. Line breaks
/// and tabs are refused here as well: in an identifier they only ever served to forge log lines, and no LMS
/// produces them.</para>
/// <para>The prefix <c>scalelite-canary-</c> is reserved for the canary's test meetings, which the pool hides from
/// getMeetings and the load: a client's meeting under it would vanish from both, so it is refused.</para>
/// <para>The meetingID and recordID lists of the recording calls (getRecordings, publishRecordings, deleteRecordings,
/// updateRecordings, the text-track calls) are matched against the index and never forwarded; recordings from
/// servers older than BBB 2.4 may carry meeting IDs outside today's rule, so only the control-character rule applies there.</para>
/// </remarks>
public static class BbbIdentifiers
{
    public const int MinMeetingIdLength = 2;
    public const int MaxMeetingIdLength = 256;

    private static readonly HashSet<string> RecordingCalls = new(StringComparer.Ordinal)
    {
        "getRecordings", "publishRecordings", "deleteRecordings", "updateRecordings", "getRecordingTextTracks", "putRecordingTextTrack",
    };

    /// <summary>The failure for the identifiers of a call, or null when they pass. Missing ones are left to the call.</summary>
    public static BbbError? Check(string call, BbbParameters parameters)
    {
        if (RecordingCalls.Contains(call))
        {
            return HasControlCharacters(parameters["meetingID"]) ? BbbError.MeetingIdControlCharacters
                : HasControlCharacters(parameters["recordID"]) ? BbbError.RecordIdControlCharacters
                : null;
        }

        return parameters["meetingID"] is { Length: > 0 } meetingId ? CheckMeetingId(meetingId) : null;
    }

    /// <summary>BBB's rule for one meeting's ID, and no control characters (see the remarks).</summary>
    public static BbbError? CheckMeetingId(string meetingId) =>
        meetingId.Length is < MinMeetingIdLength or > MaxMeetingIdLength ? BbbError.MeetingIdLength
        : meetingId.Contains(',', StringComparison.Ordinal) ? BbbError.MeetingIdComma
        : HasControlCharacters(meetingId) ? BbbError.MeetingIdControlCharacters
        : Monitoring.Canary.CanaryMeeting.IsCanary(meetingId) ? BbbError.MeetingIdReserved
        : null;

    public static bool HasControlCharacters(string? value)
    {
        foreach (var c in value.AsSpan())
        {
            if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                return true;
            }
        }

        return false;
    }
}
