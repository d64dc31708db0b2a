using System.Xml.Linq;

// Prints "N passed, N failed, N skipped" from a VSTest TRX result file.
if (args.Length != 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: TrxSummary <results.trx>");
    return 2;
}

var ns = XNamespace.Get("http://microsoft.com/schemas/VisualStudio/TeamTest/2010");
var counters = XDocument.Load(args[0]).Descendants(ns + "Counters").FirstOrDefault();
if (counters is null)
{
    return 2;
}

int Read(string name) => int.TryParse(counters.Attribute(name)?.Value, out var n) ? n : 0;
var passed = Read("passed");
var failed = Read("failed") + Read("error") + Read("timeout") + Read("aborted");
var skipped = Read("notExecuted");
Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
return 0;
