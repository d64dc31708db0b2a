using Scalelite.Core.Configuration;

namespace Scalelite.Tests.Core;

/// <summary>The configuration reference must list every setting, with its Scalelite name, so operators can trust it.</summary>
public class DocumentationTests
{
    private static string RepositoryFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Scalelite.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir.FullName, relative));
    }

    [Fact]
    public void ConfigurationReference_ListsEverySettingWithItsScaleliteName()
    {
        var doc = RepositoryFile("docs/configuration.md");
        foreach (var setting in Settings.All)
        {
            Assert.Contains($"`{setting.Key.Replace(":", "__", StringComparison.Ordinal)}`", doc, StringComparison.Ordinal);
            if (setting.ScaleliteName is not null)
            {
                Assert.Contains($"`{setting.ScaleliteName}`", doc, StringComparison.Ordinal);
            }
        }
    }
}
