namespace Scalelite.Tests.Support;

/// <summary>Paths inside the repository the tests were built from.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>
    /// <c>dotnet PROJECT.dll</c> of a service as built beside the tests (same configuration), for tests that must run it
    /// as a real process (to kill it with -9). The caller adds the environment and starts it.
    /// </summary>
    public static System.Diagnostics.ProcessStartInfo ServiceProcess(string project)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { UseShellExecute = false };
        start.ArgumentList.Add(Path(project, "bin", configuration, "net10.0", project + ".dll"));
        return start;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Scalelite.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("The tests do not run from inside the repository.");
    }
}
