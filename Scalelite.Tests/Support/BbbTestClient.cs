using System.Net;
using System.Xml.Linq;
using Scalelite.Core.Bbb;

namespace Scalelite.Tests.Support;

/// <summary>An LMS as the tests play it: signs calls with the load balancer's secret and reads BBB XML.</summary>
public sealed class BbbTestClient : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 512 }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <param name="host">A Host header to send instead of the URL's (a tenant's host name that does not resolve here).</param>
    public BbbTestClient(string baseUrl, string secret, string? host = null)
    {
        BaseUrl = baseUrl;
        Secret = secret;
        Host = host;
        if (host is not null)
        {
            _http.DefaultRequestHeaders.Host = host;
        }
    }

    /// <summary>The Host header sent, when it is not the URL's.</summary>
    public string? Host { get; }

    public string BaseUrl { get; }

    public string Secret { get; }

    public HttpClient Http => _http;

    /// <summary>The origin the client calls, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Origin => new Uri(BaseUrl).GetLeftPart(UriPartial.Authority);

    public string Url(string call, string query = "", ChecksumAlgorithm algorithm = ChecksumAlgorithm.Sha256)
    {
        var checksum = Checksum.Compute(algorithm, call, query, Secret);
        return query.Length == 0 ? $"{BaseUrl}/{call}?checksum={checksum}" : $"{BaseUrl}/{call}?{query}&checksum={checksum}";
    }

    public static string Query(params (string Key, string Value)[] parameters) =>
        string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));

    public async Task<XElement> GetXmlAsync(string url)
    {
        using var response = await _http.GetAsync(url);
        return await ReadXmlAsync(response);
    }

    public async Task<XElement> CallAsync(string call, params (string Key, string Value)[] parameters) =>
        await GetXmlAsync(Url(call, Query(parameters)));

    public Task<XElement> CreateAsync(string meetingId, params (string Key, string Value)[] extra) =>
        CallAsync("create", [("meetingID", meetingId), ("name", meetingId), .. extra]);

    public async Task<HttpResponseMessage> JoinAsync(string meetingId, string fullName = "Alice", params (string Key, string Value)[] extra) =>
        await _http.GetAsync(Url("join", Query([("fullName", fullName), ("meetingID", meetingId), ("role", "MODERATOR"), .. extra])));

    /// <summary>Reads a BBB answer, asserting what every BBB answer must be: HTTP 200 and an XML response document.</summary>
    public static async Task<XElement> ReadXmlAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"HTTP {(int)response.StatusCode}: {body}");
        var root = XDocument.Parse(body).Root!;
        Assert.Equal("response", root.Name.LocalName);
        return root;
    }

    public void Dispose() => _http.Dispose();
}

public static class XmlAssert
{
    public static void Success(XElement response) =>
        Assert.True(response.Element("returncode")?.Value == "SUCCESS", response.ToString());

    public static void Failed(XElement response, string messageKey)
    {
        Assert.True(response.Element("returncode")?.Value == "FAILED", response.ToString());
        Assert.Equal(messageKey, response.Element("messageKey")?.Value);
        Assert.False(string.IsNullOrEmpty(response.Element("message")?.Value));
    }
}

/// <summary>Waits on a condition with a deadline: never a fixed sleep.</summary>
public static class Eventually
{
    public static Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string because) =>
        TrueAsync(condition, timeout, because, workers: []);

    /// <summary>
    /// As the other overload, for a condition that service processes of the test's own make true: fails at once when
    /// all of <paramref name="workers"/> have exited (<see cref="ServiceProcesses.ThrowIfAllExited"/>).
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string because, IReadOnlyCollection<System.Diagnostics.Process> workers)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(20);
        while (!await condition())
        {
            ServiceProcesses.ThrowIfAllExited(workers, because);
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds} s waiting until {because}.");
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }
}
