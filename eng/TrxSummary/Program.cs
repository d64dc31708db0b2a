using System.Xml.Linq;

// Prints "N passed, N failed, N skipped" from a VSTest TRX result file.
// Counted from the individual results, not from <Counters>: VSTest leaves its notExecuted counter at 0 for skipped
// tests (they appear only as total - executed), so the counters would hide skips.
if (args.Length != 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: TrxSummary <results.trx>");
    return 2;
}

var ns = XNamespace.Get("http://microsoft.com/schemas/VisualStudio/TeamTest/2010");
var document = XDocument.Load(args[0]);
var outcomes = document.Descendants(ns + "UnitTestResult")
    .Select(result => result.Attribute("outcome")?.Value ?? "")
    .ToList();
var counters = document.Descendants(ns + "Counters").FirstOrDefault();
if (outcomes.Count == 0 && counters is null)
{
    return 2;
}

var passed = outcomes.Count(o => o is "Passed");
var skipped = outcomes.Count(o => o is "NotExecuted" or "Inconclusive");
var failed = outcomes.Count - passed - skipped;
// A run that aborted (a crashed test host) may report fewer results than it planned: those count as failed.
if (counters is not null && int.TryParse(counters.Attribute("total")?.Value, out var total) && total > outcomes.Count)
{
    failed += total - outcomes.Count;
}
Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
return 0;
