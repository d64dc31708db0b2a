using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml.Linq;
using Scalelite.BbbSimulator;

namespace Scalelite.Tests.BbbSimulator;

public sealed class HostTests
{
    [Fact]
    public async Task StartAsync_TwoHundredServers_EachAnswersIndexOnItsOwnPort()
    {
        await using var host = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions { Count = 200 });
        using var http = new HttpClient();

        Assert.Equal(200, host.Servers.Select(s => s.Port).Distinct().Count());
        await Parallel.ForEachAsync(host.Servers, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (server, ct) =>
        {
            var xml = XDocument.Parse(await http.GetStringAsync(new Uri(server.ApiUrl), ct)).Root!;
            Assert.Equal("SUCCESS", xml.Element("returncode")?.Value);
        });
        Assert.All(host.Servers, s => Assert.Equal(1, s.GetCallCount("index")));
        Assert.Equal("sim-200", host.Servers[^1].Id);
        Assert.Same(host.Servers[41], host["sim-42"]);
    }

    [Fact]
    public async Task StartAsync_PerServerSecrets_EachServerChecksItsOwn()
    {
        await using var host = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions { Count = 2, Secrets = ["alpha", "beta"] });
        using var http = new HttpClient();
        var (first, second) = (host.Servers[0], host.Servers[1]);

        var own = XDocument.Parse(await http.GetStringAsync(BbbSigner.Url(first, "getMeetings"))).Root!;
        var crossed = XDocument.Parse(await http.GetStringAsync(new Uri(BbbSigner.Url(first, "getMeetings").ToString().Replace(first.ApiUrl, second.ApiUrl, StringComparison.Ordinal)))).Root!;

        Assert.Equal("SUCCESS", own.Element("returncode")?.Value);
        Assert.Equal("checksumError", crossed.Element("messageKey")?.Value);
    }

    [Fact]
    public async Task StartAsync_ServersAreIndependent_MeetingAndFaultStayOnTheirServer()
    {
        await using var host = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions { Count = 2 });
        using var http = new HttpClient();
        var (first, second) = (host.Servers[0], host.Servers[1]);

        await http.GetStringAsync(BbbSigner.Url(first, "create", "meetingID=only-here"));
        second.SetFault(FaultMode.Error);

        Assert.Equal(1, first.MeetingCount);
        Assert.Equal(0, second.MeetingCount);
        Assert.Equal(FaultMode.Ok, first.FaultMode);
        using var response = await http.GetAsync(BbbSigner.Url(second, "getMeetings"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task StartAsync_ExplicitPorts_ListensThereAndStopReleasesThem()
    {
        var ports = new[] { FreePort(), FreePort() };

        await using (var host = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions { Count = 2, Ports = ports }))
        {
            Assert.Equal(ports, host.Servers.Select(s => s.Port));
            Assert.Equal($"http://127.0.0.1:{ports[0]}/bigbluebutton/api", host.Servers[0].ApiUrl);
            Assert.Equal($"http://127.0.0.1:{ports[0]}/sim", host.Servers[0].ControlUrl);
        }

        using var listener = new TcpListener(IPAddress.Loopback, ports[0]);
        listener.Start();
    }

    [Fact]
    public async Task StartAsync_PortsCountMismatch_Throws()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => BbbSimulatorHost.StartAsync(new SimulatorHostOptions { Count = 3, Ports = [1, 2] }));
    }

    [Fact]
    public void CommandLine_AllOptions_ParsedIntoHostOptions()
    {
        var parsed = CommandLine.Parse(["--count", "3", "--secret", "S", "--ports", "9001,9002,9003", "--manifest", "/tmp/m.json"]);

        Assert.Equal(3, parsed.Options.Count);
        Assert.Equal("S", parsed.Options.Secret);
        Assert.Equal([9001, 9002, 9003], parsed.Options.Ports);
        Assert.Equal("/tmp/m.json", parsed.ManifestPath);
        Assert.Equal(5000, CommandLine.Parse(["--port-base", "5000"]).Options.PortBase);
        Assert.Equal(SimulatorHostOptions.DefaultSecret, CommandLine.Parse([]).Options.Secret);
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--count", "x")]
    [InlineData("--bogus", "1")]
    [InlineData("--count")]
    [InlineData("--count", "2", "--ports", "1,2,3")]
    public void CommandLine_InvalidArguments_ThrowFormatException(params string[] args)
    {
        Assert.Throws<FormatException>(() => CommandLine.Parse(args));
    }

    [Fact]
    public async Task Manifest_Write_ListsEveryServerAndLeavesNoTempFile()
    {
        await using var host = await BbbSimulatorHost.StartAsync(new SimulatorHostOptions { Count = 2, Secret = "manifest-secret" });
        var directory = Directory.CreateTempSubdirectory("sim-manifest-");
        try
        {
            var path = Path.Combine(directory.FullName, "sims.json");

            Manifest.Write(path, host.Servers);

            Assert.Equal(["sims.json"], Directory.GetFiles(directory.FullName).Select(Path.GetFileName));
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            var sims = json.RootElement.GetProperty("simulators").EnumerateArray().ToList();
            Assert.Equal(2, sims.Count);
            Assert.Equal("sim-2", sims[1].GetProperty("id").GetString());
            Assert.Equal(host.Servers[1].ApiUrl, sims[1].GetProperty("url").GetString());
            Assert.Equal("manifest-secret", sims[1].GetProperty("secret").GetString());
            Assert.Equal(host.Servers[1].ControlUrl, sims[1].GetProperty("control").GetString());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
