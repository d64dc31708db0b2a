using Microsoft.Extensions.Configuration;
using Scalelite.AppHost;

namespace Scalelite.Tests.AppHost;

public sealed class AppHostFlagsTests
{
    [Fact]
    public void Read_AllFlags_SetsThem()
    {
        var flags = Read("--state-dir", "/tmp/x", "--simulators", "0", "--api-port=8090", "--secret", "s3", "--dashboard", "false", "--api-replicas", "3");

        Assert.NotNull(flags);
        Assert.Equal("/tmp/x", flags.StateDirectory);
        Assert.Equal(0, flags.Simulators);
        Assert.Equal(8090, flags.ApiPort);
        Assert.Equal("s3", flags.Secret);
        Assert.False(flags.Dashboard);
        Assert.Equal(3, flags.ApiReplicas);
    }

    [Fact]
    public void Read_NoFlags_UsesDefaults()
    {
        var flags = Read()!;

        // At the repository's root, wherever dotnet run starts the AppHost.
        Assert.Equal(Scalelite.Tests.Support.Repository.Path(".scalelite"), flags.StateDirectory);
        Assert.Equal(3, flags.Simulators);
        Assert.Null(flags.ApiPort);
        Assert.Null(flags.Secret);
        Assert.True(flags.Dashboard);
        Assert.Equal(1, flags.ApiReplicas);
    }

    [Fact]
    public void Read_AspireArguments_PassThrough()
    {
        var flags = Read("--publisher", "manifest", "--output-path", "/tmp/m.json", "--simulators", "2");

        Assert.Equal(2, flags!.Simulators);
    }

    [Theory]
    [InlineData("--simulators", "many", "--simulators expects a number")]
    [InlineData("--simulators", "101", "--simulators expects a number")]
    [InlineData("--api-port", "70000", "--api-port expects a TCP port")]
    [InlineData("--dashboard", "maybe", "--dashboard expects true or false")]
    [InlineData("--api-replicas", "0", "--api-replicas expects a number from 1 to 16")]
    [InlineData("--api-replicas", "17", "--api-replicas expects a number from 1 to 16")]
    [InlineData("--api-replicas", "two", "--api-replicas expects a number from 1 to 16")]
    [InlineData("--api-replica-front", "dcp", "--api-replica-front expects nginx or aspire")]
    public void Read_WrongValues_ExplainsTheProblem(string flag, string value, string expected)
    {
        Assert.Null(AppHostFlags.Read(Configuration(flag, value), out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("nginx", false)]
    [InlineData("aspire", true)]
    public void Read_ApiReplicaFront_AspireOnlyWhenAsked(string? front, bool aspire)
    {
        var flags = front is null ? Read("--api-replicas", "2") : Read("--api-replicas", "2", "--api-replica-front", front);

        Assert.NotNull(flags);
        Assert.Equal(aspire, flags.AspireReplicaFront);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void AsksForHelp_HelpFlag_IsTrue(string flag) => Assert.True(AppHostFlags.AsksForHelp(["--simulators", "1", flag]));

    private static AppHostFlags? Read(params string[] args)
    {
        var flags = AppHostFlags.Read(Configuration(args), out var error);
        Assert.Null(error);
        return flags;
    }

    private static IConfiguration Configuration(params string[] args) => new ConfigurationBuilder().AddCommandLine(args).Build();
}
