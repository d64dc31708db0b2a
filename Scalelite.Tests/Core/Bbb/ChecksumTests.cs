using Scalelite.Core.Bbb;

namespace Scalelite.Tests.Core.Bbb;

public class ChecksumTests
{
    private const string Secret = "8cd8ef52e8e101574e400365b55e11a6";

    [Theory]
    [InlineData(ChecksumAlgorithm.Sha1)]
    [InlineData(ChecksumAlgorithm.Sha256)]
    [InlineData(ChecksumAlgorithm.Sha384)]
    [InlineData(ChecksumAlgorithm.Sha512)]
    public void Verify_EachAlgorithm_AcceptsItsOwnChecksum(ChecksumAlgorithm algorithm)
    {
        var query = "name=Test+Meeting&meetingID=abc%20123";
        var checksum = Checksum.Compute(algorithm, "create", query, Secret);

        Assert.Equal((int)algorithm, checksum.Length);
        Assert.True(Checksum.Verify("create", query, checksum, [Secret], ChecksumAlgorithms.All));
        Assert.True(Checksum.Verify("create", query, checksum.ToUpperInvariant(), [Secret], ChecksumAlgorithms.All));
    }

    [Fact]
    public void Compute_KnownVector_MatchesSha1OfConcatenation()
    {
        // sha1("getMeetings" + "" + "secret")
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData("getMeetingssecret"u8));
        Assert.Equal(expected, Checksum.Compute(ChecksumAlgorithm.Sha1, "getMeetings", "", "secret"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("0123456789012345678901234567890123456789z")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")]
    public void Verify_MalformedChecksum_IsRejected(string checksum) =>
        Assert.False(Checksum.Verify("create", "meetingID=1", checksum, [Secret], ChecksumAlgorithms.All));

    [Fact]
    public void Verify_WrongSecretOrCall_IsRejected()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "create", "meetingID=1", Secret);
        Assert.False(Checksum.Verify("create", "meetingID=1", checksum, ["other"], ChecksumAlgorithms.All));
        Assert.False(Checksum.Verify("join", "meetingID=1", checksum, [Secret], ChecksumAlgorithms.All));
        Assert.False(Checksum.Verify("create", "meetingID=2", checksum, [Secret], ChecksumAlgorithms.All));
    }

    [Fact]
    public void Verify_SeveralSecrets_AnyOneMatches()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "end", "meetingID=1", "second");
        Assert.True(Checksum.Verify("end", "meetingID=1", checksum, ["first", "second"], ChecksumAlgorithms.All));
    }

    [Fact]
    public void Verify_DisallowedAlgorithm_IsRejected()
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha1, "end", "meetingID=1", Secret);
        Assert.False(Checksum.Verify("end", "meetingID=1", checksum, [Secret], ChecksumAlgorithms.Parse("SHA256:SHA512")));
    }

    [Theory]
    [InlineData("meetingID=1&checksum=abc", "meetingID=1", "abc")]
    [InlineData("checksum=abc&meetingID=1", "meetingID=1", "abc")]
    [InlineData("checksum=abc", "", "abc")]
    [InlineData("&checksum=abc", "", "abc")]
    [InlineData("a=1&checksum=abc&b=2", "a=1&b=2", "abc")]
    [InlineData("a=1", "a=1", null)]
    [InlineData("xchecksum=1&a=2", "xchecksum=1&a=2", null)]
    public void SplitChecksum_CutsOnlyTheChecksumParameter(string raw, string query, string? checksum)
    {
        var (rest, value) = Checksum.SplitChecksum(raw);
        Assert.Equal(query, rest);
        Assert.Equal(checksum, value);
    }

    [Fact]
    public void ParseAlgorithms_UnknownName_Throws() =>
        Assert.Throws<FormatException>(() => ChecksumAlgorithms.Parse("MD5"));
}
