using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Scalelite.Api.FreeSwitch;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Apis;

/// <summary>POST /fsapi through the real API, with meetings created through it on simulated servers.</summary>
public sealed class FsApiTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const string Destination = "5551234";

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(
        PoolHarness pool, IEnumerable<(string Key, string Value)> form, string? user = "fsapi", string? password = PoolHarness.Secret)
    {
        var origin = new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority);
        using var request = new HttpRequestMessage(HttpMethod.Post, origin + "/fsapi")
        {
            Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Key, f.Value))),
        };
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        var response = await pool.Client.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    private static (string, string)[] Call(string? pin = null, params (string, string)[] extra) =>
        [("section", "dialplan"), ("Caller-Destination-Number", Destination), .. pin is null ? Array.Empty<(string, string)>() : [("variable_pin", pin)], .. extra];

    private static XElement Actions(string body) => XDocument.Parse(body).Descendants("condition").Single();

    private static string? Data(XElement condition, string application, int index = 0) =>
        condition.Elements("action").Where(a => a.Attribute("application")?.Value == application).ElementAtOrDefault(index)?.Attribute("data")?.Value;

    [Fact]
    public async Task Fsapi_DefaultSettings_AnswersEachStepOfADialInAsScalelite()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: new Dictionary<string, string?>
        {
            ["Scalelite:MaxMeetingDuration"] = "90",
        });
        var created = await pool.Client.CreateAsync("dial-in-lecture");
        XmlAssert.Success(created);
        var voiceBridge = created.Element("voiceBridge")!.Value;
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "dial-in-lecture"));
        var ownerHost = new Uri(owner.ApiUrl).Host;

        // Basic auth as user fsapi with the first load-balancer secret; anything else is 401 with a realm.
        foreach (var (user, password) in new (string?, string?)[] { (null, null), ("fsapi", "wrong"), ("admin", PoolHarness.Secret) })
        {
            var (status, body, response) = await PostAsync(pool, Call(), user, password);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Matches("^Basic realm=\"[^\"]*\"$", response.Headers.WwwAuthenticate.ToString());
            Assert.Equal("HTTP Basic: Access denied.\n", body);
        }

        // Not a dialplan request, or no destination: not ours.
        foreach (var form in new[] { Call().Select(f => f.Item1 == "section" ? ("section", "directory") : f).ToArray(), [("section", "dialplan")] })
        {
            var (status, body, response) = await PostAsync(pool, form);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(Dialplan.NotFound(), body);
            Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        }

        // No PIN yet: answer, hang-up timer from MAX_MEETING_DURATION, PIN prompt.
        var prompt = await PostAsync(pool, Call());
        Assert.Equal(Dialplan.PinPrompt(Destination, 5, 9, 5400), prompt.Body);

        // The meeting's voice bridge: bridged to the server that runs it, caller ID masked.
        var bridge = Actions((await PostAsync(pool, Call(voiceBridge, ("Caller-Caller-ID-Name", "4930123456")))).Body);
        Assert.Equal("meeting_id=dial-in-lecture", Data(bridge, "set"));
        Assert.Equal("effective_caller_id_name=493012XXXX", Data(bridge, "set", 1));
        Assert.Equal($"sofia/external/{voiceBridge}@{ownerHost}", Data(bridge, "bridge"));

        // A breakout room's number (one digit more) reaches the same meeting's server.
        var breakout = Actions((await PostAsync(pool, Call(voiceBridge + "3", ("Caller-Caller-ID-Name", "Ada"), ("Caller-Privacy-Hide-Name", "true")))).Body);
        Assert.Equal("meeting_id=dial-in-lecture", Data(breakout, "set"));
        Assert.Equal("effective_caller_id_name=Unavailable", Data(breakout, "set", 1));
        Assert.Equal($"sofia/external/{voiceBridge}3@{ownerHost}", Data(breakout, "bridge"));

        // Any other PIN: asked again.
        var unknown = voiceBridge[0] == '9' ? "1" + voiceBridge[1..] : "9" + voiceBridge[1..];
        Assert.Equal(Dialplan.Reprompt(Destination, 5, 9), (await PostAsync(pool, Call(unknown))).Body);

        // Once the meeting ended, its number no longer reaches it.
        XmlAssert.Success(await pool.Client.CallAsync("end", ("meetingID", "dial-in-lecture")));
        Assert.Equal(Dialplan.Reprompt(Destination, 5, 9), (await PostAsync(pool, Call(voiceBridge))).Body);
    }

    [Fact]
    public async Task Fsapi_EmptyPasswordAndOwnLimits_AnswersWithoutAuthenticationAndWithTheLimits()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, settings: new Dictionary<string, string?>
        {
            ["Scalelite:MaxMeetingDuration"] = "90",
            ["FsApi:Password"] = "",
            ["FsApi:MaxDuration"] = "0",
            ["FsApi:VoiceBridgeMin"] = "4",
            ["FsApi:VoiceBridgeMax"] = "10",
        });

        var (status, body, _) = await PostAsync(pool, Call(), user: null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Dialplan.PinPrompt(Destination, 4, 10, 0), body);
        Assert.Equal(Dialplan.Reprompt(Destination, 4, 10), (await PostAsync(pool, Call("1234567"), user: null)).Body);
    }
}
