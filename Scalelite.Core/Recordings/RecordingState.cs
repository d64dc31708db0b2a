namespace Scalelite.Core.Recordings;

/// <summary>The values of <c>recordings.state</c>: BBB's recording states, spelled as BBB writes them.</summary>
/// <remarks>
/// The column stays text because metadata.xml may carry a state this list lacks, and getRecordings' <c>state</c>
/// filter compares the text as given. An import takes the state from metadata.xml (<see cref="Of"/> when it has
/// none); publishRecordings sets <see cref="Published"/> or <see cref="Unpublished"/>; deleteRecordings sets
/// <see cref="Deleted"/>, after which the recording is listed only when asked for by state.
/// </remarks>
public static class RecordingState
{
    public const string Processing = "processing";
    public const string Processed = "processed";
    public const string Published = "published";
    public const string Unpublished = "unpublished";
    public const string Deleted = "deleted";

    /// <summary>The state that goes with the published flag.</summary>
    public static string Of(bool published) => published ? Published : Unpublished;
}
