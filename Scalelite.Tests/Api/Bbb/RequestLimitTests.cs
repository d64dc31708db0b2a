using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Bbb;

/// <summary>
/// Requests at and past the size limits, and broken bodies: what the connection still allows is answered with
/// BBB's FAILED XML by our code, not with the web server's empty 400, 414 or 431.
/// </summary>
public sealed class RequestLimitTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const int TwoMebibytes = 2 * 1024 * 1024;

    [Fact]
    public async Task LongQuery_WithinAMaxQueryLengthAboveAMebibyte_IsAnsweredNotRefusedBeforeOurCode()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, new Dictionary<string, string?> { ["Scalelite:MaxQueryLength"] = TwoMebibytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        // isMeetingRunning of an unknown meeting is answered without a server, so only the API sees the long query.
        var within = await pool.Client.GetXmlAsync(pool.Client.Url("isMeetingRunning", $"meetingID=nowhere&pad={new string('p', 3 * 1024 * 1024 / 2)}"));
        XmlAssert.Success(within);
        Assert.Equal("false", within.Element("running")?.Value);

        var beyond = await pool.Client.GetXmlAsync(pool.Client.Url("isMeetingRunning", $"meetingID=nowhere&pad={new string('p', TwoMebibytes)}"));
        XmlAssert.Failed(beyond, "invalidParameters");
    }

    [Fact]
    public async Task MalformedChunkedBody_IsInvalidParametersXml()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var uri = new Uri(pool.Client.BaseUrl);
        var target = new Uri(pool.Client.Url("create", "")).PathAndQuery;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nmeetingID=x\r\n0\r\n\r\n"));

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        var body = response[response.IndexOf("<?xml", StringComparison.Ordinal)..];
        XmlAssert.Failed(XDocument.Parse(body[..(body.LastIndexOf("</response>", StringComparison.Ordinal) + "</response>".Length)]).Root!, "invalidParameters");
    }
}
