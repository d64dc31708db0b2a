namespace Scalelite.RecordingSync.Importing;

/// <summary>The points of an import at which a crash is interesting; see <see cref="RecordingImporter"/>.</summary>
public enum ImportStep
{
    /// <summary>The archive is unpacked into the work directory.</summary>
    Extracted,

    /// <summary>Every metadata.xml is parsed.</summary>
    Parsed,

    /// <summary>The rows are written inside the still open transaction.</summary>
    Staged,

    /// <summary>One format directory was renamed into place (reported once per format).</summary>
    FormatPlaced,

    /// <summary>The transaction is committed.</summary>
    Committed,

    /// <summary>The archive is deleted.</summary>
    ArchiveRemoved,
}

/// <summary>Called at each <see cref="ImportStep"/>. Production does nothing; tests throw here to simulate a crash.</summary>
public interface IImportProbe
{
    void At(ImportStep reached, string recordId);
}

internal sealed class NoImportProbe : IImportProbe
{
    public void At(ImportStep reached, string recordId)
    {
    }
}
