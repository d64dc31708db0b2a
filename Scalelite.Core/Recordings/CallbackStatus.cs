namespace Scalelite.Core.Recordings;

/// <summary>The values of <c>callbacks.kind</c> and <c>callbacks.status</c>.</summary>
/// <remarks>
/// A row is <see cref="Captured"/> when the API records the URL an LMS passed at create (no recordID yet). When a
/// recording of that meeting is imported, RecordingSync adds one <see cref="Pending"/> row per URL and recordID,
/// which ends <see cref="Delivered"/> or, after the configured attempts, <see cref="Failed"/>.
/// </remarks>
public static class CallbackStatus
{
    public const string RecordingReady = "recording-ready";
    public const string Analytics = "analytics";

    public const string Captured = "captured";
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}
