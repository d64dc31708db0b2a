using System.Globalization;

namespace Scalelite.Tests.Support;

/// <summary>A process as /proc shows it.</summary>
public sealed record ProcessInfo(int Pid, int ParentPid, string CommandLine)
{
    /// <summary>The process's environment (empty when it is gone or not readable).</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        try
        {
            return File.ReadAllText($"/proc/{Pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(entry => entry.Split('=', 2))
                .Where(pair => pair.Length == 2)
                .GroupBy(pair => pair[0], StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
        }
        catch (IOException)
        {
            return new Dictionary<string, string>();
        }
    }
}

/// <summary>Finds the processes an AppHost runs: its descendants and those of the DCP it started detached.</summary>
public static class ProcessTree
{
    public static IReadOnlyList<ProcessInfo> All()
    {
        var all = new List<ProcessInfo>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] is "Z" or "X")
                {
                    continue;
                }

                all.Add(new ProcessInfo(pid, int.Parse(fields[1], CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim()));
            }
            catch (IOException)
            {
            }
        }

        return all;
    }

    /// <summary>
    /// <paramref name="appHost"/>'s descendants plus DCP (started with <c>--monitor APPHOST_PID</c>, detached) and all of
    /// its descendants: every resource process, the dashboard included.
    /// </summary>
    public static IReadOnlyList<ProcessInfo> OfAppHost(int appHost)
    {
        var all = All();
        var roots = all.Where(p => p.Pid == appHost || p.CommandLine.Contains($"--monitor {appHost.ToString(CultureInfo.InvariantCulture)} ", StringComparison.Ordinal)).Select(p => p.Pid).ToHashSet();
        var found = all.Where(p => roots.Contains(p.Pid)).ToList();
        for (var added = true; added;)
        {
            var children = all.Where(p => found.Any(f => f.Pid == p.ParentPid) && found.All(f => f.Pid != p.Pid)).ToList();
            found.AddRange(children);
            added = children.Count > 0;
        }

        return found;
    }
}
