using System.Text;
using System.Xml.Linq;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Bbb;

/// <summary>Bad input gets BBB's FAILED XML on HTTP 200: never a 500, an HTML page or an empty body.</summary>
public sealed class BadInputTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>, IAsyncLifetime
{
    private PoolHarness _pool = null!;

    public async Task InitializeAsync() => _pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    private BbbTestClient Client => _pool.Client;

    private async Task<XElement> SendAsync(HttpRequestMessage request)
    {
        using var response = await Client.Http.SendAsync(request);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
        return await BbbTestClient.ReadXmlAsync(response);
    }

    private Task<XElement> GetAsync(string url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, url));

    [Theory]
    [InlineData("create", "name=x", "missingParamMeetingID")]
    [InlineData("create", "meetingID=&name=x", "missingParamMeetingID")]
    [InlineData("join", "fullName=A", "missingParamMeetingID")]
    [InlineData("join", "meetingID=m1", "missingParamFullName")]
    [InlineData("join", "meetingID=m1&fullName=", "missingParamFullName")]
    [InlineData("end", "", "missingParamMeetingID")]
    [InlineData("getMeetingInfo", "meetingID=", "missingParamMeetingID")]
    [InlineData("isMeetingRunning", "", "missingParamMeetingID")]
    [InlineData("sendChatMessage", "message=hi", "missingParamMeetingID")]
    public async Task MissingOrEmptyParameter_IsItsMessageKey(string call, string query, string key) =>
        XmlAssert.Failed(await GetAsync(Client.Url(call, query)), key);

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("da39a3ee5e6b4b0d3255bfef95601890afd8070")]
    [InlineData("da39a3ee5e6b4b0d3255bfef95601890afd80709")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")]
    [InlineData("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    [InlineData("zz83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    public async Task BadChecksum_AnyLength_IsChecksumError(string checksum)
    {
        XmlAssert.Failed(await GetAsync($"{Client.BaseUrl}/create?meetingID=m&checksum={checksum}"), "checksumError");
        XmlAssert.Failed(await GetAsync($"{Client.BaseUrl}/getMeetings?checksum={checksum}"), "checksumError");
    }

    [Fact]
    public async Task MissingChecksum_IsChecksumError() =>
        XmlAssert.Failed(await GetAsync($"{Client.BaseUrl}/getMeetings"), "checksumError");

    [Fact]
    public async Task ChecksumForAnotherCall_IsChecksumError()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "getMeetings", "", Client.Secret);
        XmlAssert.Failed(await GetAsync($"{Client.BaseUrl}/getMeetingInfo?checksum={checksum}"), "checksumError");
    }

    [Theory]
    [InlineData("bogusCall")]
    [InlineData("GETMEETINGS")]
    [InlineData("getRecordingsX")]
    [InlineData("a/b/c")]
    public async Task UnknownCall_IsUnsupportedRequest(string call) =>
        XmlAssert.Failed(await GetAsync(Client.Url(call)), "unsupportedRequest");

    [Theory]
    [InlineData("PUT", "create")]
    [InlineData("DELETE", "getMeetings")]
    [InlineData("POST", "join")]
    [InlineData("PATCH", "end")]
    [InlineData("GET", "insertDocument")]
    public async Task WrongMethod_IsUnsupportedRequest(string method, string call) =>
        XmlAssert.Failed(await SendAsync(new HttpRequestMessage(new HttpMethod(method), Client.Url(call, "meetingID=m"))), "unsupportedRequest");

    [Fact]
    public async Task OversizedQuery_IsFailedXml()
    {
        var query = "meetingID=m&name=" + new string('x', 200_000);
        var answer = await GetAsync(Client.Url("create", query));
        Assert.Equal("FAILED", answer.Element("returncode")?.Value);
    }

    [Fact]
    public async Task LongButAcceptableQuery_Works()
    {
        var query = "meetingID=long&name=long&" + string.Join('&', Enumerable.Range(0, 50).Select(i => $"meta_key{i}={new string('v', 100)}"));
        XmlAssert.Success(await GetAsync(Client.Url("create", query)));
    }

    [Theory]
    [InlineData("meetingID=m&fullName=%FF%FE")]
    [InlineData("meetingID=%C3&fullName=A")]
    public async Task InvalidUtf8_SignedCorrectly_IsFailedXml(string query)
    {
        var answer = await GetAsync(Client.Url("join", query));
        XmlAssert.Failed(answer, "invalidParameters");
    }

    [Fact]
    public async Task InvalidUtf8_BadChecksum_IsChecksumError() =>
        XmlAssert.Failed(await GetAsync($"{Client.BaseUrl}/join?meetingID=%FF&checksum=00"), "checksumError");

    [Fact]
    public async Task XmlBody_WithFormContentType_IsUnsupportedContentType()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Client.Url("create", "meetingID=x1&name=x1"))
        {
            Content = new StringContent("<modules><module name=\"presentation\"></module></modules>", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        XmlAssert.Failed(await SendAsync(request), "unsupportedContentType");
    }

    [Fact]
    public async Task XmlBody_WithPlainTextContentType_IsUnsupportedContentType()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Client.Url("create", "meetingID=x2&name=x2"))
        {
            Content = new StringContent("<modules/>", Encoding.UTF8, "text/plain"),
        };
        XmlAssert.Failed(await SendAsync(request), "unsupportedContentType");
    }

    [Fact]
    public async Task FormPost_ChecksumOverEmptyQuery_Works()
    {
        var body = "meetingID=form-1&name=Form+One";
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha1, "create", "", Client.Secret);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Client.BaseUrl}/create?checksum={checksum}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        var answer = await SendAsync(request);
        XmlAssert.Success(answer);
        Assert.Equal("form-1", answer.Element("meetingID")?.Value);
    }

    [Fact]
    public async Task FormPost_ChecksumOverSortedBody_Works()
    {
        var sorted = "meetingID=form-2&name=Form%20Two";
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "create", sorted, Client.Secret);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Client.BaseUrl}/create")
        {
            Content = new StringContent($"name=Form+Two&meetingID=form-2&checksum={checksum}", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        XmlAssert.Success(await SendAsync(request));
    }

    [Fact]
    public async Task MultipartPost_ChecksumOverEmptyQuery_Works()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "create", "", Client.Secret);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("multi-1"), "meetingID" },
            { new StringContent("Multipart One"), "name" },
        };
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Client.BaseUrl}/create?checksum={checksum}") { Content = form };
        var answer = await SendAsync(request);
        XmlAssert.Success(answer);
        Assert.Equal("multi-1", answer.Element("meetingID")?.Value);
    }

    [Fact]
    public async Task FormPost_ParameterInQueryAndBody_IsRefused()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "create", "meetingID=a", Client.Secret);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Client.BaseUrl}/create?meetingID=a&checksum={checksum}")
        {
            Content = new StringContent("meetingID=b", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        Assert.Equal("FAILED", (await SendAsync(request)).Element("returncode")?.Value);
    }

    [Fact]
    public async Task CreateWithXmlBody_IsForwardedToTheBackend()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Client.Url("create", "meetingID=slides&name=slides"))
        {
            Content = new StringContent("<modules><module name=\"presentation\"><document url=\"http://example.invalid/a.pdf\"/></module></modules>", Encoding.UTF8, "application/xml"),
        };
        XmlAssert.Success(await SendAsync(request));
    }

    [Fact]
    public async Task LeadingAmpersandAndPlusSpaces_AsClientsSignThem_Work()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha1, "getMeetings", "", Client.Secret);
        XmlAssert.Success(await GetAsync($"{Client.BaseUrl}/getMeetings?&checksum={checksum}"));
        XmlAssert.Success(await GetAsync(Client.Url("create", "meetingID=plus+space&name=A+B")));
        XmlAssert.Success(await GetAsync(Client.Url("isMeetingRunning", "meetingID=plus%20space")));
    }

    [Fact]
    public async Task Index_AnswersWithoutChecksum()
    {
        var answer = await GetAsync(Client.BaseUrl);
        XmlAssert.Success(answer);
        Assert.Equal("2.0", answer.Element("version")?.Value);
        XmlAssert.Success(await GetAsync(Client.BaseUrl + "/"));
    }

    [Fact]
    public async Task OddCharactersInNames_StayValidXml()
    {
        var answer = await Client.CreateAsync("odd <&\"'> id", ("name", "A <b>&amp; \"c\""));
        XmlAssert.Success(answer);
        Assert.Equal("odd <&\"'> id", answer.Element("meetingID")?.Value);
    }
}
