using System.Net;
using System.Security.Cryptography;
using System.Xml.Linq;

namespace Scalelite.Tests.BbbSimulator;

public sealed class ChecksumTests : SimulatorTestBase
{
    public static TheoryData<string> Algorithms => new() { "SHA1", "SHA256", "SHA384", "SHA512" };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Create_ValidChecksumOfEachAlgorithm_Succeeds(string algorithm)
    {
        var xml = await CallAsync("create", "meetingID=alg-" + algorithm + "&name=x", new HashAlgorithmName(algorithm));

        AssertSuccess(xml);
        Assert.Equal(1, Server.GetCallCount("create"));
    }

    [Fact]
    public async Task Create_UpperCaseHexChecksum_Succeeds()
    {
        const string query = "meetingID=upper&name=x";
        var checksum = BbbSigner.Checksum("create", query, Server.Secret, HashAlgorithmName.SHA1).ToUpperInvariant();

        var xml = await GetXmlAsync($"{Server.ApiUrl}/create?{query}&checksum={checksum}");

        AssertSuccess(xml);
    }

    [Fact]
    public async Task Create_ChecksumInTheMiddleOfTheQuery_IsCutOutBeforeHashing()
    {
        var checksum = BbbSigner.Checksum("create", "meetingID=mid&name=x", Server.Secret, HashAlgorithmName.SHA256);

        var xml = await GetXmlAsync($"{Server.ApiUrl}/create?meetingID=mid&checksum={checksum}&name=x");

        AssertSuccess(xml);
    }

    [Fact]
    public async Task Create_RawQueryIsHashedAsSent_PlusAndPercentSpacesBothWork()
    {
        foreach (var query in new[] { "meetingID=a+b&name=one+two", "meetingID=a%20b&name=one%20two" })
        {
            var xml = await GetXmlAsync($"{Server.ApiUrl}/create?{query}&checksum={BbbSigner.Checksum("create", query, Server.Secret, HashAlgorithmName.SHA256)}");
            AssertSuccess(xml);
            Assert.Equal("a b", xml.Element("meetingID")?.Value);
        }
    }

    [Fact]
    public async Task GetMeetings_LeadingAmpersandAsSomeClientsSend_Succeeds()
    {
        var checksum = BbbSigner.Checksum("getMeetings", string.Empty, Server.Secret, HashAlgorithmName.SHA256);

        var xml = await GetXmlAsync($"{Server.ApiUrl}/getMeetings?&checksum={checksum}");

        AssertSuccess(xml);
    }

    [Fact]
    public async Task Create_WrongChecksum_FailsWithChecksumErrorAndCountsFailure()
    {
        var checksum = BbbSigner.Checksum("create", "meetingID=other", Server.Secret, HashAlgorithmName.SHA256);

        var xml = await GetXmlAsync($"{Server.ApiUrl}/create?meetingID=bad&checksum={checksum}");

        AssertFailed(xml, "checksumError");
        Assert.Equal("You did not pass the checksum security check", xml.Element("message")?.Value);
        Assert.Equal(0, Server.GetCallCount("create"));
        Assert.Equal(1, Server.GetChecksumFailures()["create"]);
        Assert.Equal(0, Server.MeetingCount);
    }

    [Theory]
    [InlineData("meetingID=nochecksum")]
    [InlineData("meetingID=x&checksum=")]
    [InlineData("meetingID=x&checksum=zz")]
    [InlineData("meetingID=x&checksum=0123456789abcdef")]
    public async Task Create_MissingOrMalformedChecksum_FailsWithChecksumError(string query)
    {
        var xml = await GetXmlAsync($"{Server.ApiUrl}/create?{query}");

        AssertFailed(xml, "checksumError");
    }

    [Fact]
    public async Task Create_SignedWithAnotherSecret_FailsWithChecksumError()
    {
        var checksum = BbbSigner.Checksum("create", "meetingID=x", "not-the-secret", HashAlgorithmName.SHA256);

        var xml = await GetXmlAsync($"{Server.ApiUrl}/create?meetingID=x&checksum={checksum}");

        AssertFailed(xml, "checksumError");
    }

    [Fact]
    public async Task Create_FormPostWithEmptyQueryString_AcceptsChecksumOverEmptyQuery()
    {
        var checksum = BbbSigner.Checksum("create", string.Empty, Server.Secret, HashAlgorithmName.SHA256);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["meetingID"] = "form-post",
            ["name"] = "Form <post>",
            ["checksum"] = checksum,
        });

        using var response = await Http.PostAsync(new Uri(Server.ApiUrl + "/create"), form);
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;

        AssertSuccess(xml);
        Assert.Equal("form-post", xml.Element("meetingID")?.Value);
        Assert.Equal("Form <post>", Server.GetMeetings().Single().Name);
    }

    [Fact]
    public async Task Index_NeedsNoChecksum_AnswersVersion()
    {
        foreach (var url in new[] { Server.ApiUrl, Server.ApiUrl + "/" })
        {
            var xml = await GetXmlAsync(url);
            AssertSuccess(xml);
            Assert.Equal("2.0", xml.Element("version")?.Value);
            Assert.False(string.IsNullOrEmpty(xml.Element("bbbVersion")?.Value));
        }
    }

    private async Task<XElement> GetXmlAsync(string url)
    {
        using var response = await Http.GetAsync(new Uri(url));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Root!;
    }
}
