using Scalelite.AppHost;

namespace Scalelite.Tests.AppHost;

public sealed class CommandLineTests
{
    [Fact]
    public void Parse_AllFlags_SetsOptions()
    {
        var options = CommandLine.Parse(["--state-dir", "/tmp/x", "--simulators", "0", "--api-port=8090", "--secret", "s3"], out var error);

        Assert.Null(error);
        Assert.NotNull(options);
        Assert.Equal("/tmp/x", options.StateDirectory);
        Assert.Equal(0, options.Simulators);
        Assert.Equal(8090, options.ApiPort);
        Assert.Equal("s3", options.Secret);
    }

    [Fact]
    public void Parse_NoFlags_UsesDefaults()
    {
        var options = CommandLine.Parse([], out _)!;

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, ".scalelite"), options.StateDirectory);
        Assert.Equal(3, options.Simulators);
        Assert.Null(options.ApiPort);
        Assert.Null(options.Secret);
    }

    [Theory]
    [InlineData("--simulators", "many", "--simulators expects a number")]
    [InlineData("--api-port", "70000", "--api-port expects a TCP port")]
    [InlineData("--bogus", "1", "Unknown option '--bogus'")]
    [InlineData("--state-dir", null, "--state-dir needs a value")]
    public void Parse_WrongFlags_ExplainsTheProblem(string flag, string? value, string expected)
    {
        string[] args = value is null ? [flag] : [flag, value];

        Assert.Null(CommandLine.Parse(args, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Help_ReturnsNullWithoutError()
    {
        Assert.Null(CommandLine.Parse(["--help"], out var error));
        Assert.Null(error);
    }

    [Fact]
    public void Checksum_CallWithoutParameters_IsSha256OfCallAndSecret()
    {
        // sha256("addServer" + "secret")
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("addServersecret"u8)),
            ScaleliteAdminClient.Checksum("addServer", "", "secret"));
    }
}
