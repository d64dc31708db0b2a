using System.Net;
using System.Xml.Linq;
using Scalelite.Tests.Core.Recordings;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Recordings;

/// <summary>
/// Playback of recordings through the web server (<c>/recording/...</c> and <c>/recording-resource/...</c>): tokens,
/// cookies and the <c>X-Accel-Redirect</c> paths the API hands to the web server.
/// </summary>
public sealed class PlaybackApiTests(RecordingApiFixture fixture) : IClassFixture<RecordingApiFixture>
{
    private readonly BbbTestClient _client = fixture.Client;

    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 13)];

    private Task<XElement> Call(string call, params (string, string)[] parameters) => _client.CallAsync(call, parameters);

    private static List<XElement> Recordings(XElement response) => [.. response.Element("recordings")!.Elements("recording")];

    [Fact]
    public async Task ProtectedRecording_PlaybackToken_IsSingleUseAndBuysAScopedCookie()
    {
        var meeting = Unique("prot");
        var recording = RecordingData.New(meeting + "-r", meeting);
        recording.Protected = true;
        var open = RecordingData.New(meeting + "-o", meeting, RecordingData.Epoch.AddMinutes(-1));
        await fixture.Data.AddAsync(recording, open);

        var root = await Call("getRecordings", ("meetingID", meeting));
        var urls = Recordings(root).ToDictionary(r => r.Element("recordID")!.Value, r => r.Descendants("format").ToDictionary(f => f.Element("type")!.Value, f => f.Element("url")!.Value));
        Assert.Equal($"{fixture.Origin}/podcast/{open.RecordId}/audio.ogg", urls[open.RecordId]["podcast"]);
        var podcastUrl = urls[recording.RecordId]["podcast"];
        Assert.StartsWith($"{fixture.Origin}/recording/{recording.RecordId}/podcast?token=", podcastUrl, StringComparison.Ordinal);
        Assert.NotEqual(podcastUrl.Split("token=")[1], urls[recording.RecordId]["presentation"].Split("token=")[1]);

        // First use: the cookie, scoped to this recording's files, and the file through the web server's internal location.
        using var first = await _client.Http.GetAsync(podcastUrl);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal($"/scalelite-recordings/podcast/{recording.RecordId}/audio.ogg", first.Headers.GetValues("X-Accel-Redirect").Single());
        var setCookie = first.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains($"path=/podcast/{recording.RecordId}", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        var cookie = setCookie.Split(';')[0];

        // Second use of the same token: refused.
        using var second = await _client.Http.GetAsync(podcastUrl);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        Assert.False(second.Headers.Contains("X-Accel-Redirect"));

        // A token for one format does not open another.
        var presentationToken = urls[recording.RecordId]["presentation"].Split("token=")[1];
        using var wrongFormat = await _client.Http.GetAsync($"{fixture.Origin}/recording/{recording.RecordId}/podcast?token={presentationToken}");
        Assert.Equal(HttpStatusCode.NotFound, wrongFormat.StatusCode);

        // The player page's route redirects to the player; its files then need the cookie.
        var resource = $"{fixture.Origin}/recording-resource/podcast/{recording.RecordId}/audio.ogg";
        using var withoutCookie = await _client.Http.GetAsync(resource);
        Assert.Equal(HttpStatusCode.Forbidden, withoutCookie.StatusCode);
        using var withCookie = new HttpRequestMessage(HttpMethod.Get, resource);
        withCookie.Headers.Add("Cookie", cookie);
        using var allowed = await _client.Http.SendAsync(withCookie);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal($"/scalelite-recordings/podcast/{recording.RecordId}/audio.ogg", allowed.Headers.GetValues("X-Accel-Redirect").Single());

        // The cookie of one recording does not open another's files.
        using var forged = new HttpRequestMessage(HttpMethod.Get, $"{fixture.Origin}/recording-resource/podcast/{recording.RecordId}x/audio.ogg");
        forged.Headers.Add("Cookie", cookie.Replace(recording.RecordId, recording.RecordId + "x", StringComparison.Ordinal));
        using var refused = await _client.Http.SendAsync(forged);
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);

        // Unprotected recordings' files go straight through.
        using var plain = await _client.Http.GetAsync($"{fixture.Origin}/recording-resource/podcast/{open.RecordId}/audio.ogg");
        Assert.Equal($"/scalelite-recordings/podcast/{open.RecordId}/audio.ogg", plain.Headers.GetValues("X-Accel-Redirect").Single());

        // A token tried on the wrong format is used up; a fresh answer carries fresh tokens.
        var fresh = Recordings(await Call("getRecordings", ("recordID", recording.RecordId)))[0]
            .Descendants("format").Single(f => f.Element("type")!.Value == "presentation").Element("url")!.Value;
        using var presentation = await _client.Http.GetAsync(fresh);
        Assert.Equal(HttpStatusCode.Redirect, presentation.StatusCode);
        Assert.Equal($"{fixture.Origin}/playback/presentation/2.3/{recording.RecordId}", presentation.Headers.Location!.ToString());
    }

    [Fact]
    public async Task ProtectedRecording_ConcurrentUsesOfOneToken_ExactlyOneSucceeds()
    {
        var meeting = Unique("race");
        var recording = RecordingData.New(meeting + "-r", meeting);
        recording.Protected = true;
        await fixture.Data.AddAsync(recording);
        var url = Recordings(await Call("getRecordings", ("meetingID", meeting)))[0].Descendants("url").First().Value;

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await _client.Http.GetAsync(url);
            return response.StatusCode;
        }));

        Assert.Equal(1, answers.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(7, answers.Count(s => s == HttpStatusCode.NotFound));
    }

    /// <summary>
    /// File paths after <c>/recording-resource/podcast/{recordID}/</c>, as they appear on the wire (the server decodes
    /// everything but <c>%2F</c>): separators, backslashes, look-alikes of <c>/</c> and <c>.</c>, dot-names and spaces.
    /// A NUL never gets this far: the server refuses the request.
    /// </summary>
    public static TheoryData<string> UnsafeResourcePaths =>
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "audio.ogg%2F..%2F..%2F..%2Fsecret",
        "..%5C..%5C..%5Csecret",
        "sub%5C..%5C..%5Csecret",
        "..%E2%88%95..%E2%88%95secret",
        "..%EF%BC%8F..%EF%BC%8Fsecret",
        "..%E2%81%84secret",
        "%EF%BC%8E%EF%BC%8E%2Fsecret",
        "%E2%80%A4%E2%80%A4%2Fsecret",
        ".hidden",
        "a%20b",
    ];

    [Theory]
    [MemberData(nameof(UnsafeResourcePaths))]
    public async Task Resource_UnsafePath_NotFoundWithoutAccelRedirect(string path)
    {
        var meeting = Unique("trav");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        using var response = await _client.Http.GetAsync($"{fixture.Origin}/recording-resource/podcast/{recording.RecordId}/{path}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"), string.Join(", ", response.Headers.TryGetValues("X-Accel-Redirect", out var v) ? v : []));
    }

    [Theory]
    [MemberData(nameof(UnsafeNames.Labels), MemberType = typeof(UnsafeNames))]
    public async Task Resource_UnsafeFileName_NoAccelRedirect(string label)
    {
        var meeting = Unique("name");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        using var response = await _client.Http.GetAsync(
            $"{fixture.Origin}/recording-resource/podcast/{recording.RecordId}/{Uri.EscapeDataString(UnsafeNames.All[label])}");

        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        if (response.StatusCode == HttpStatusCode.OK)
        {
            // ".." is resolved by the client before it is sent: the request names no recording resource at all and
            // gets the answer of any unknown path, as Scalelite gives it (BBB's unsupportedRequest), not a file.
            Assert.Contains("<messageKey>unsupportedRequest</messageKey>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Resource_PlainPath_AccelRedirectBuiltFromTheRecording()
    {
        var meeting = Unique("res");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        using var response = await _client.Http.GetAsync($"{fixture.Origin}/recording-resource/presentation/{recording.RecordId}/presentation/d2d9/thumbnails/thumb-1.png");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"/scalelite-recordings/presentation/{recording.RecordId}/presentation/d2d9/thumbnails/thumb-1.png", response.Headers.GetValues("X-Accel-Redirect").Single());
    }

    [Fact]
    public async Task Play_StoredUrlClimbsOut_RedirectsInsteadOfAccelRedirect()
    {
        var meeting = Unique("playtrav");
        var recording = RecordingData.New(meeting + "-r", meeting);
        recording.Protected = true;
        recording.Formats.Single(f => f.Format == "podcast").Url = $"https://bbb1.example.org/podcast/{recording.RecordId}/..%2F..%2F..%2Fetc%2Fpasswd";
        await fixture.Data.AddAsync(recording);
        var url = Recordings(await Call("getRecordings", ("recordID", recording.RecordId)))[0]
            .Descendants("format").Single(f => f.Element("type")!.Value == "podcast").Element("url")!.Value;

        using var response = await _client.Http.GetAsync(url);

        Assert.False(response.Headers.Contains("X-Accel-Redirect"), string.Join(", ", response.Headers.TryGetValues("X-Accel-Redirect", out var v) ? v : []));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }
}
