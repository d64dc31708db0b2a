using Scalelite.Core.Configuration;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Configuration;

/// <summary>The configuration reference must list every setting, with its Scalelite name, so operators can trust it.</summary>
public class DocumentationTests
{
    [Fact]
    public void ConfigurationReference_ListsEverySettingWithItsScaleliteName()
    {
        var doc = File.ReadAllText(Repository.Path("docs", "configuration.md"));
        foreach (var setting in SettingCatalog.All)
        {
            Assert.Contains($"`{setting.Key.Replace(":", "__", StringComparison.Ordinal)}`", doc, StringComparison.Ordinal);
            if (setting.ScaleliteName is not null)
            {
                Assert.Contains($"`{setting.ScaleliteName}`", doc, StringComparison.Ordinal);
            }
        }
    }
}
