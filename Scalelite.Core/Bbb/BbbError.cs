namespace Scalelite.Core.Bbb;

/// <summary>A BBB API failure: the <c>messageKey</c> and <c>message</c> a client sees in a FAILED answer.</summary>
public sealed record BbbError(string MessageKey, string Message)
{
    public static readonly BbbError ChecksumError = new("checksumError", "You did not pass the checksum security check");
    public static readonly BbbError MissingMeetingId = new("missingParamMeetingID", "You must specify a meeting ID for the meeting.");
    public static readonly BbbError MissingFullName = new("missingParamFullName", "You must specify a name for the attendee who will be joining the meeting.");
    public static readonly BbbError MissingRecordId = new("missingParamRecordID", "You must specify a recordID.");
    public static readonly BbbError MissingPublish = new("missingParamPublish", "You must specify a publish value true or false.");
    public static readonly BbbError MeetingNotFound = new("notFound", "We could not find a meeting with that meeting ID - perhaps the meeting is not yet running?");
    public static readonly BbbError RecordingsNotFound = new("notFound", "We could not find recordings");
    public static readonly BbbError UnsupportedRequest = new("unsupportedRequest", "This request is not supported.");
    public static readonly BbbError UnsupportedContentType = new("unsupportedContentType", "POST request Content-Type is missing or unsupported");
    public static readonly BbbError ServerUnavailable = new("serverUnavailable", "The server for this meeting is disabled/offline.");
    public static readonly BbbError NoAvailableServers = new("internalError", "Could not find any available servers.");
    public static readonly BbbError BackendUnreachable = new("internalError", "Unable to access meeting on server.");
    public static readonly BbbError CreateUnreachable = new("internalError", "Unable to create meeting on server.");
    public static readonly BbbError InsertDocumentUnreachable = new("internalError", "Unable to insert document on server.");

    /// <summary>What a call answers when its server did not: Scalelite's words, which LMS logs and alerts may match.</summary>
    public static BbbError Unreachable(string call) => call switch
    {
        "create" => CreateUnreachable,
        "insertDocument" => InsertDocumentUnreachable,
        _ => BackendUnreachable,
    };
    public static readonly BbbError InvalidParameters = new("invalidParameters", "A parameter is malformed (invalid UTF-8 or too long).");
    public static readonly BbbError DuplicateParameter = new("invalidParameters", "A parameter was given both in the query string and in the body.");
    public static readonly BbbError MeetingIdLength = new("validationError", "Meeting ID must be between 2 and 256 characters");
    public static readonly BbbError MeetingIdComma = new("validationError", "Meeting ID cannot contain ','");
    public static readonly BbbError MeetingIdControlCharacters = new("validationError", "Meeting ID cannot contain control characters");
    public static readonly BbbError MeetingIdReserved = new("validationError", "Meeting ID cannot start with 'scalelite-canary-': the load balancer reserves it for its test meetings");
    public static readonly BbbError RecordIdControlCharacters = new("validationError", "Record ID cannot contain control characters");

    public static BbbError ServerTagUnavailable(string tag) => new("serverTagUnavailable", $"There is no available server with the required tag={tag}.");

    public static BbbError Internal(string message) => new("internalError", message);
}

/// <summary>Thrown where a BBB failure ends the request; the endpoint turns it into FAILED XML.</summary>
public sealed class BbbException(BbbError error) : Exception(error.Message)
{
    public BbbError Error { get; } = error;
}
