using System.Net;
using System.Security.Cryptography;
using System.Xml.Linq;
using Scalelite.BbbSimulator;

namespace Scalelite.Tests.BbbSimulator;

/// <summary>Starts one simulator host per test class instance (xunit makes one per test) and disposes it afterwards.</summary>
public abstract class SimulatorTestBase : IAsyncLifetime
{
    private BbbSimulatorHost? _host;

    protected BbbSimulatorHost Host => _host ?? throw new InvalidOperationException("Not started.");

    protected SimulatedServer Server => Host.Servers[0];

    protected HttpClient Http { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    protected virtual SimulatorHostOptions Options => new() { Count = 1 };

    public async Task InitializeAsync() => _host = await BbbSimulatorHost.StartAsync(Options);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    protected async Task<XElement> CallAsync(string call, string query = "", HashAlgorithmName? algorithm = null, SimulatedServer? server = null)
    {
        using var response = await Http.GetAsync(BbbSigner.Url(server ?? Server, call, query, algorithm));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
    }

    protected async Task<XElement> CreateAsync(string meetingId, string extra = "")
    {
        var xml = await CallAsync("create", $"meetingID={Uri.EscapeDataString(meetingId)}&name=Test{extra}");
        AssertSuccess(xml);
        return xml;
    }

    protected async Task<HttpResponseMessage> ControlAsync(string pathAndQuery, SimulatedServer? server = null)
    {
        using var content = new StringContent(string.Empty);
        return await Http.PostAsync(new Uri((server ?? Server).ControlUrl + pathAndQuery), content);
    }

    protected static void AssertSuccess(XElement xml) => Assert.Equal("SUCCESS", xml.Element("returncode")?.Value);

    protected static void AssertFailed(XElement xml, string messageKey)
    {
        Assert.Equal("FAILED", xml.Element("returncode")?.Value);
        Assert.Equal(messageKey, xml.Element("messageKey")?.Value);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    protected static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Condition not met before the deadline.");
            await Task.Delay(10);
        }
    }
}
