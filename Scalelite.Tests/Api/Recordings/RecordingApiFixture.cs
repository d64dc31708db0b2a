using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.Core.Persistence;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Recordings;

/// <summary>
/// One pool (API on a real port, one simulator) shared by a class's recording tests, with a temporary recording volume,
/// protected recordings on, and small pages so that streaming over several pages is exercised with little data.
/// Tests isolate themselves by using their own meeting and record IDs.
/// </summary>
public sealed class RecordingApiFixture : IAsyncLifetime
{
    public const int PageSize = 10;

    private readonly InfrastructureFixture _infrastructure = new();
    private string _volume = string.Empty;

    public PoolHarness Pool { get; private set; } = null!;

    internal RecordingData Data { get; private set; } = null!;

    public BbbTestClient Client => Pool.Client;

    /// <summary>The API's origin, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Origin => new Uri(Pool.ApiBase).GetLeftPart(UriPartial.Authority);

    public async Task InitializeAsync()
    {
        await _infrastructure.InitializeAsync();
        _volume = Directory.CreateTempSubdirectory("scalelite-recordings-").FullName;
        var publish = Path.Combine(_volume, "published");
        var unpublish = Path.Combine(_volume, "unpublished");
        Pool = await PoolHarness.StartAsync(_infrastructure, simulators: 1, settings: new Dictionary<string, string?>
        {
            ["Recording:PublishDir"] = publish,
            ["Recording:UnpublishDir"] = unpublish,
            ["Recording:ProtectedRecordingsEnabled"] = "true",
            ["Recording:PageSize"] = PageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Data = new RecordingData(Pool.Api.Services.GetRequiredService<IDbContextFactory<ScaleliteDbContext>>(), publish, unpublish);
    }

    public async Task DisposeAsync()
    {
        await Pool.DisposeAsync();
        Directory.Delete(_volume, recursive: true);
    }
}
