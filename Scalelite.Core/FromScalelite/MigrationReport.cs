using System.Globalization;

namespace Scalelite.Core.FromScalelite;

/// <summary>What one step of a migration did (or, in a dry run, would do) with the rows it read.</summary>
public sealed class StepReport(string name)
{
    private readonly Dictionary<SyncDecision, int> _counts = [];

    public string Name { get; } = name;

    /// <summary>Rows that cannot be migrated (bad or unknown references, values our schema cannot hold), each with a detail line.</summary>
    public int Skipped { get; private set; }

    /// <summary>One line per change, conflict or problem, in the order met.</summary>
    public List<string> Details { get; } = [];

    /// <summary>Lines that say something about the step as a whole.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Whether the step's counts mean anything (a step that only reports, such as tenants today, has none).</summary>
    public bool Counts { get; init; } = true;

    public int this[SyncDecision decision] => _counts.GetValueOrDefault(decision);

    /// <summary>Rows added or changed here (ledger-only writes do not count: they change nothing a client sees).</summary>
    public int Changes => this[SyncDecision.Add] + this[SyncDecision.Update];

    public void Count(SyncDecision decision, string? detail = null)
    {
        _counts[decision] = this[decision] + 1;
        if (detail is not null)
        {
            Details.Add(detail);
        }
    }

    public void Skip(string detail)
    {
        Skipped++;
        Details.Add(detail);
    }
}

/// <summary>The outcome of a migration run: one <see cref="StepReport"/> per step, printable for an operator.</summary>
public sealed class MigrationReport(string source, bool dryRun)
{
    public string Source { get; } = source;

    public bool DryRun { get; } = dryRun;

    public List<StepReport> Steps { get; } = [];

    public StepReport this[string name] => Steps.First(s => s.Name == name);

    public StepReport Add(StepReport step)
    {
        Steps.Add(step);
        return step;
    }

    /// <summary>Rows added or changed here over all steps: 0 on a run after which nothing changed in Scalelite.</summary>
    public int Changes => Steps.Sum(s => s.Changes);

    /// <param name="maxDetails">Detail lines printed per step (the rest are counted); null prints all.</param>
    public void Write(TextWriter output, int? maxDetails = 20)
    {
        output.WriteLine($"From Scalelite: {Source}");
        if (DryRun)
        {
            output.WriteLine("Dry run: nothing is changed; the counts say what a run would do.");
        }

        foreach (var step in Steps)
        {
            if (step.Counts)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{step.Name}: {step[SyncDecision.Add]} added, {step[SyncDecision.Update]} updated, {step[SyncDecision.Unchanged] + step[SyncDecision.Record]} unchanged, " +
                    $"{step[SyncDecision.KeepOurs]} changed here (kept), {step[SyncDecision.Conflict]} conflicts (ours kept), {step.Skipped} skipped"));
            }
            else
            {
                output.WriteLine($"{step.Name}:");
            }

            foreach (var note in step.Notes)
            {
                output.WriteLine("  " + note);
            }

            var shown = maxDetails is { } max ? step.Details.Take(max) : step.Details;
            foreach (var line in shown)
            {
                output.WriteLine("  " + line);
            }

            if (maxDetails is { } limit && step.Details.Count > limit)
            {
                output.WriteLine($"  ... and {step.Details.Count - limit} more (--verbose lists them all)");
            }
        }

        output.WriteLine(DryRun
            ? $"Dry run done: {Changes} change(s) would be made."
            : Changes == 0 ? "Done: nothing needed to change." : $"Done: {Changes} change(s) made.");
    }
}
