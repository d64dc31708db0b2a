using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml.Linq;
using Scalelite.Cli;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// Three tenants on the whole running system (AppHost, poller, RecordingSync, simulated servers), two by host and one
/// by path, each with its own LMS client: a .NET client sending its host name, a client that resolves the tenant's
/// own host name to the load balancer and signs with SHA-1, and bigbluebutton-js on the path tenant. No tenant can
/// see, join, end, get info on, list or play another tenant's meetings or recordings, even knowing their IDs.
/// </summary>
[Collection(MultitenantTopologyCollection.Name)]
public sealed class TenancyEndToEndTests(MultitenantAppFixture fixture)
{
    [Fact]
    public async Task ThreeTenants_EachWithItsOwnLmsClient_NoneReachesAnothersMeetingsOrRecordings()
    {
        var endpoints = fixture.Endpoints;
        var port = fixture.ApiPort.ToString(CultureInfo.InvariantCulture);
        var origin = $"http://127.0.0.1:{port}";

        // The operator adds the tenants with the CLI.
        foreach (var name in new[] { "one", "two", "three" })
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var exit = await new CliApp(output, error, _ => null).InvokeAsync(["tenants", "add", name, "--secrets", name + "-secret", "--url", origin, "--secret", endpoints.Api.Secret]);
            Assert.True(exit == 0, error.ToString());
        }

        using var one = new BbbTestClient(endpoints.Api.Url, "one-secret", $"one.{MultitenantAppFixture.UrlHost}:{port}");
        using var two = new HostTenantLms($"http://two.{MultitenantAppFixture.UrlHost}:{port}/bigbluebutton/api", "two-secret");
        using var three = new BbbTestClient($"{origin}/t/three/bigbluebutton/api", "three-secret");

        XmlAssert.Success(await one.CreateAsync("e2e-one", ("record", "true")));
        XmlAssert.Success(await two.CallAsync("create", ("meetingID", "e2e-two"), ("name", "Two"), ("record", "true")));

        // Host tenants against each other's meeting, and against the path tenant's.
        foreach (var (call, foreign) in new (Func<string, (string, string)[], Task<XElement>> Call, string Meeting)[]
        {
            ((c, p) => one.CallAsync(c, p), "e2e-two"),
            ((c, p) => two.CallAsync(c, p), "e2e-one"),
        })
        {
            XmlAssert.Failed(await call("join", [("meetingID", foreign), ("fullName", "Intruder"), ("role", "MODERATOR")]), "notFound");
            XmlAssert.Failed(await call("getMeetingInfo", [("meetingID", foreign)]), "notFound");
            Assert.Equal("false", (await call("isMeetingRunning", [("meetingID", foreign)])).Element("running")!.Value);
            XmlAssert.Failed(await call("end", [("meetingID", foreign)]), "notFound");
            Assert.DoesNotContain(foreign, MeetingIds(await call("getMeetings", [])));
        }

        // A meeting ID another tenant runs cannot be taken.
        XmlAssert.Failed(await two.CallAsync("create", ("meetingID", "e2e-one"), ("name", "Taken")), "idNotUnique");

        // The path tenant's LMS, bigbluebutton-js: its own meeting works, the others' do not exist for it.
        if (LmsClients.Available)
        {
            var (code, output) = await LmsClients.RunNodeAsync("lms-tenant.js", $"{origin}/t/three/bigbluebutton", "three-secret", "e2e-three", "e2e-one", "e2e-two");
            Assert.True(code == 0, output);
            Assert.Contains("ok tenant 1 meeting(s)", output, StringComparison.Ordinal);
        }
        else
        {
            XmlAssert.Success(await three.CreateAsync("e2e-three", ("record", "true")));
        }

        Assert.Equal(["e2e-one"], MeetingIds(await one.CallAsync("getMeetings")));
        Assert.Equal(["e2e-two"], MeetingIds(await two.CallAsync("getMeetings")));
        Assert.Equal(["e2e-three"], MeetingIds(await three.CallAsync("getMeetings")));
        XmlAssert.Failed(await one.CallAsync("getMeetingInfo", ("meetingID", "e2e-three")), "notFound");

        // Recordings: made on the servers, imported by RecordingSync as each tenant's, listed and played only by it.
        var oneRecording = await RecordAsync(one, "e2e-one");
        var threeRecording = await RecordAsync(one, "e2e-three");
        await Eventually.TrueAsync(async () => RecordIds(await one.CallAsync("getRecordings")).Contains(oneRecording), TimeSpan.FromSeconds(60), "one's recording is imported");
        await Eventually.TrueAsync(async () => RecordIds(await three.CallAsync("getRecordings")).Contains(threeRecording), TimeSpan.FromSeconds(60), "three's recording is imported");
        Assert.Equal([oneRecording], RecordIds(await one.CallAsync("getRecordings")));
        Assert.Equal([threeRecording], RecordIds(await three.CallAsync("getRecordings")));
        Assert.Empty(RecordIds(await two.CallAsync("getRecordings", ("recordID", $"{oneRecording},{threeRecording}"))));
        Assert.Empty(RecordIds(await two.CallAsync("getRecordings", ("meetingID", "e2e-one"))));
        XmlAssert.Failed(await two.CallAsync("publishRecordings", ("recordID", oneRecording), ("publish", "false")), "notFound");
        XmlAssert.Failed(await three.CallAsync("deleteRecordings", ("recordID", oneRecording)), "notFound");
        using var bare = new BbbTestClient(endpoints.Api.Url, endpoints.Api.Secret);
        Assert.Empty(RecordIds(await bare.CallAsync("getRecordings")));
        Assert.Empty(MeetingIds(await bare.CallAsync("getMeetings")));

        Assert.Equal(HttpStatusCode.OK, await PlayAsync(bare, $"one.{MultitenantAppFixture.UrlHost}:{port}", $"{origin}/recording-resource/presentation/{oneRecording}/metadata.xml"));
        Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(bare, $"two.{MultitenantAppFixture.UrlHost}:{port}", $"{origin}/recording-resource/presentation/{oneRecording}/metadata.xml"));
        Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(bare, null, $"{origin}/t/three/recording-resource/presentation/{oneRecording}/metadata.xml"));
        Assert.Equal(HttpStatusCode.OK, await PlayAsync(bare, null, $"{origin}/t/three/recording-resource/presentation/{threeRecording}/metadata.xml"));
        Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(bare, $"one.{MultitenantAppFixture.UrlHost}:{port}", $"{origin}/recording-resource/presentation/{threeRecording}/metadata.xml"));
    }

    /// <summary>Has the simulator running the meeting record it and drop the archive on the topology's spool.</summary>
    private async Task<string> RecordAsync(BbbTestClient client, string meetingId)
    {
        foreach (var sim in fixture.Endpoints.Simulators)
        {
            using var response = await client.Http.PostAsync($"{sim.Control}/recordings/{meetingId}?formats=presentation", null);
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recordID").GetString()!;
            }
        }

        Assert.Fail($"no simulator runs {meetingId}");
        return string.Empty;
    }

    private static async Task<HttpStatusCode> PlayAsync(BbbTestClient client, string? host, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        using var response = await client.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static List<string> MeetingIds(XElement answer) =>
        [.. (answer.Element("meetings")?.Elements("meeting") ?? []).Select(m => m.Element("meetingID")!.Value).Order(StringComparer.Ordinal)];

    private static List<string> RecordIds(XElement answer) =>
        [.. (answer.Element("recordings")?.Elements("recording") ?? []).Select(r => r.Element("recordID")!.Value).Order(StringComparer.Ordinal)];

    /// <summary>
    /// An LMS that calls the tenant's own host name (<c>two.lb.localhost:PORT</c>), resolved to the load balancer as DNS
    /// would, and signs with SHA-1.
    /// </summary>
    private sealed class HostTenantLms(string baseUrl, string secret) : IDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });

        public async Task<XElement> CallAsync(string call, params (string Key, string Value)[] parameters)
        {
            var query = BbbTestClient.Query(parameters);
            var checksum = Checksum.Compute(ChecksumAlgorithm.Sha1, call, query, secret);
            using var response = await _http.GetAsync($"{baseUrl}/{call}?{(query.Length > 0 ? query + "&" : string.Empty)}checksum={checksum}");
            return await BbbTestClient.ReadXmlAsync(response);
        }

        public void Dispose() => _http.Dispose();
    }
}
