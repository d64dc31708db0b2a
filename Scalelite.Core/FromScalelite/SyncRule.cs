namespace Scalelite.Core.FromScalelite;

/// <summary>What a migration run does with one of Scalelite's rows.</summary>
public enum SyncDecision
{
    /// <summary>Not here yet: added.</summary>
    Add,

    /// <summary>Scalelite's row is taken: it changed there since the last run, or it is seen for the first time and differs.</summary>
    Update,

    /// <summary>Both sides are as the last run wrote them: nothing to do.</summary>
    Unchanged,

    /// <summary>Both sides are equal but the ledger does not say so yet: only the ledger is written.</summary>
    Record,

    /// <summary>Changed (or removed) here since it was migrated, unchanged in Scalelite: ours stays.</summary>
    KeepOurs,

    /// <summary>Changed on both sides since it was migrated: ours stays, and the row is reported.</summary>
    Conflict,
}

/// <summary>Which side wins when a row is migrated again: a three-way comparison with the ledger.</summary>
/// <remarks>
/// Each side is reduced to a fingerprint of the fields the migration carries over, and the ledger
/// (<see cref="MigratedRow"/>) holds the fingerprint both had when the row was last written. Then:
/// <list type="bullet">
/// <item>only Scalelite changed it → Scalelite's row is taken (Scalelite keeps serving the LMS until the cut-over, so
/// its changes are real);</item>
/// <item>only we changed it → ours stays (after the cut-over the LMS talks to us, and the poller changes servers'
/// states too; a later run must not undo that);</item>
/// <item>both changed it differently → ours stays and the row is reported as a conflict;</item>
/// <item>a row seen for the first time that we already hold (from <c>recordings reindex</c>, or an import) and that
/// differs → Scalelite's row is taken: it carries what the LMS changed through the API, which the files do not.</item>
/// </list>
/// A row removed here after it was migrated stays removed.
/// </remarks>
public static class SyncRule
{
    /// <param name="ledger">The fingerprint the last run wrote; null if the row was never migrated.</param>
    /// <param name="source">Scalelite's row now.</param>
    /// <param name="ours">Our row now; null if we do not hold it.</param>
    public static SyncDecision Decide(string? ledger, string source, string? ours)
    {
        if (ours is null)
        {
            return ledger is null ? SyncDecision.Add : source == ledger ? SyncDecision.KeepOurs : SyncDecision.Conflict;
        }

        if (ours == source)
        {
            return ledger == source ? SyncDecision.Unchanged : SyncDecision.Record;
        }

        if (ledger is null || ours == ledger)
        {
            return SyncDecision.Update;
        }

        return source == ledger ? SyncDecision.KeepOurs : SyncDecision.Conflict;
    }
}
