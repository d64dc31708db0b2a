using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Xml.Linq;
using Scalelite.Core.Recordings;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Recordings;

/// <summary>The recording calls through the real API against PostgreSQL, Redis and a recording volume on disk.</summary>
public sealed class RecordingsApiTests(RecordingApiFixture fixture) : IClassFixture<RecordingApiFixture>
{
    private readonly BbbTestClient _client = fixture.Client;

    private static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 13)];

    private Task<XElement> Call(string call, params (string, string)[] parameters) => _client.CallAsync(call, parameters);

    private static List<XElement> Recordings(XElement response) => [.. response.Element("recordings")!.Elements("recording")];

    private static List<string> RecordIds(XElement response) => [.. Recordings(response).Select(r => r.Element("recordID")!.Value)];

    [Fact]
    public async Task GetRecordings_OneRecording_AnswersEveryFieldWithUrlsOnTheCalledHost()
    {
        var meeting = Unique("fields");
        var recording = RecordingData.New(meeting + "-rec", meeting);
        await fixture.Data.AddAsync(recording);

        using var request = new HttpRequestMessage(HttpMethod.Get, _client.Url("getRecordings", BbbTestClient.Query(("meetingID", meeting))));
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "lb.example.com");
        using var response = await _client.Http.SendAsync(request);
        var xml = await response.Content.ReadAsStringAsync();
        var root = await BbbTestClient.ReadXmlAsync(response);

        XmlAssert.Success(root);
        var r = Assert.Single(Recordings(root));
        Assert.Equal(
            ["recordID", "meetingID", "internalMeetingID", "name", "isBreakout", "published", "state", "startTime", "endTime", "participants", "rawSize", "metadata", "playback"],
            r.Elements().Select(e => e.Name.LocalName));
        Assert.Equal(recording.RecordId, r.Element("recordID")!.Value);
        Assert.Equal(meeting, r.Element("meetingID")!.Value);
        Assert.Equal(recording.RecordId, r.Element("internalMeetingID")!.Value);
        Assert.Equal("Lecture <1> & \"more\"", r.Element("name")!.Value);
        Assert.Contains("<name><![CDATA[Lecture <1> & \"more\"]]></name>", xml, StringComparison.Ordinal);
        Assert.Equal("false", r.Element("isBreakout")!.Value);
        Assert.Equal("true", r.Element("published")!.Value);
        Assert.Equal("published", r.Element("state")!.Value);
        Assert.Equal(RecordingData.Epoch.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), r.Element("startTime")!.Value);
        Assert.Equal(RecordingData.Epoch.AddMinutes(42).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), r.Element("endTime")!.Value);
        Assert.Equal("7", r.Element("participants")!.Value);
        Assert.Equal("7219530", r.Element("rawSize")!.Value);

        var metadata = r.Element("metadata")!;
        Assert.Equal("Moodle", metadata.Element("bbb-origin")!.Value);
        Assert.Equal("physics", metadata.Element("course")!.Value);
        Assert.Equal(string.Empty, metadata.Element("bbb-recording-tags")!.Value);
        Assert.Contains("<bbb-recording-tags><![CDATA[]]></bbb-recording-tags>", xml, StringComparison.Ordinal);

        var formats = r.Element("playback")!.Elements("format").ToList();
        Assert.Equal(["podcast", "presentation"], formats.Select(f => f.Element("type")!.Value));
        var podcast = formats[0];
        Assert.Equal($"https://lb.example.com/podcast/{recording.RecordId}/audio.ogg", podcast.Element("url")!.Value);
        Assert.Equal("111", podcast.Element("processingTime")!.Value);
        Assert.Equal("0", podcast.Element("length")!.Value);
        Assert.Equal("10500", podcast.Element("size")!.Value);
        Assert.Null(podcast.Element("preview"));

        var presentation = formats[1];
        Assert.Equal(["type", "url", "processingTime", "length", "size", "preview"], presentation.Elements().Select(e => e.Name.LocalName));
        Assert.Equal($"https://lb.example.com/playback/presentation/2.3/{recording.RecordId}", presentation.Element("url")!.Value);
        Assert.Equal("2973", presentation.Element("processingTime")!.Value);
        Assert.Equal("532", presentation.Element("length")!.Value);
        Assert.Equal("168019", presentation.Element("size")!.Value);
        var images = presentation.Element("preview")!.Element("images")!.Elements("image").ToList();
        Assert.Equal(2, images.Count);
        Assert.Equal("Welcome", images[0].Attribute("alt")!.Value);
        Assert.Equal("176", images[0].Attribute("width")!.Value);
        Assert.Equal("136", images[0].Attribute("height")!.Value);
        Assert.Equal($"https://lb.example.com/presentation/{recording.RecordId}/presentation/d2d9/thumbnails/thumb-1.png", images[0].Value);
        Assert.Equal("Course", images[1].Attribute("alt")!.Value);
    }

    [Fact]
    public async Task GetRecordings_WithoutForwardedHeaders_UsesTheRequestHost()
    {
        var meeting = Unique("host");
        await fixture.Data.AddAsync(RecordingData.New(meeting + "-r", meeting));

        var root = await Call("getRecordings", ("meetingID", meeting));

        var url = Recordings(root)[0].Descendants("url").First().Value;
        Assert.StartsWith(fixture.Origin + "/podcast/", url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRecordings_NothingMatches_AnswersNoRecordings()
    {
        var root = await Call("getRecordings", ("meetingID", Unique("nothing")));

        XmlAssert.Success(root);
        Assert.Equal("noRecordings", root.Element("messageKey")!.Value);
        Assert.Equal("No recordings found", root.Element("message")!.Value);
        Assert.Empty(root.Element("recordings")!.Elements());
    }

    [Fact]
    public async Task GetRecordings_Filters_SelectByMeetingRecordIdPrefixStateAndMetadata()
    {
        var a = Unique("fa");
        var b = Unique("fb");
        var a1 = RecordingData.New(a + "-1", a, RecordingData.Epoch.AddHours(1));
        var a2 = RecordingData.New(a + "-2", a, RecordingData.Epoch.AddHours(2), state: RecordingState.Unpublished);
        var a3 = RecordingData.New(a + "-3", a, RecordingData.Epoch.AddHours(3), state: RecordingState.Deleted);
        var b1 = RecordingData.New(b + "-1", b, RecordingData.Epoch.AddHours(4));
        b1.Metadata.Find(m => m.Key == "course")!.Value = "chemistry";
        await fixture.Data.AddAsync(a1, a2, a3, b1);

        // meetingID: exact, comma list; default state is published + unpublished.
        Assert.Equal([a2.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("meetingID", a))));
        Assert.Equal([b1.RecordId, a2.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("meetingID", $"{a},{b}"))));
        Assert.Equal("noRecordings", (await Call("getRecordings", ("meetingID", a[..^1]))).Element("messageKey")?.Value);

        // recordID: prefix match, and it wins over meetingID.
        Assert.Equal([a2.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("recordID", a))));
        Assert.Equal([b1.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("recordID", $"{a}-1,{b}"), ("meetingID", a))));

        // state: a list, or any; deleted only when asked for.
        Assert.Equal([a1.RecordId], RecordIds(await Call("getRecordings", ("meetingID", a), ("state", "published"))));
        Assert.Equal([a3.RecordId], RecordIds(await Call("getRecordings", ("meetingID", a), ("state", "deleted"))));
        Assert.Equal([a3.RecordId, a2.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("meetingID", a), ("state", "any"))));
        Assert.Equal([a3.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("meetingID", a), ("state", "published,deleted"))));

        // meta_: a key matches one of its listed values; several keys are ORed, as Scalelite combines them.
        Assert.Equal([b1.RecordId], RecordIds(await Call("getRecordings", ("recordID", $"{a},{b}"), ("meta_course", "chemistry"))));
        Assert.Equal([b1.RecordId, a2.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("recordID", $"{a},{b}"), ("meta_course", "chemistry,physics"))));
        Assert.Equal([b1.RecordId, a2.RecordId, a1.RecordId], RecordIds(await Call("getRecordings", ("recordID", $"{a},{b}"), ("meta_course", "chemistry"), ("meta_bbb-origin", "Moodle"))));
        Assert.Equal("noRecordings", (await Call("getRecordings", ("recordID", b), ("meta_course", "biology"))).Element("messageKey")?.Value);
    }

    [Fact]
    public async Task GetRecordings_RecordIdPrefixWithLikeWildcards_MatchesLiterally()
    {
        var meeting = Unique("wild");
        var literal = RecordingData.New(meeting + "_%x", meeting);
        var other = RecordingData.New(meeting + "ab-x", meeting, RecordingData.Epoch.AddMinutes(1));
        await fixture.Data.AddAsync(literal, other);

        Assert.Equal([literal.RecordId], RecordIds(await Call("getRecordings", ("recordID", meeting + "_%"))));
    }

    [Fact]
    public async Task GetRecordings_OffsetAndLimit_PageNewestFirstAcrossStreamedPages()
    {
        var meeting = Unique("page");
        var all = Enumerable.Range(0, (RecordingApiFixture.PageSize * 3) + 5)
            .Select(i => RecordingData.New($"{meeting}-{i:D3}", meeting, RecordingData.Epoch.AddMinutes(i)))
            .ToArray();
        // Two recordings with the same start time must still each appear exactly once.
        all[^1].StartTime = all[^2].StartTime;
        await fixture.Data.AddAsync(all);
        var newestFirst = all.OrderByDescending(r => r.StartTime).ThenByDescending(r => r.Id).Select(r => r.RecordId).ToList();

        var everything = RecordIds(await Call("getRecordings", ("meetingID", meeting)));
        Assert.Equal(newestFirst, everything);

        Assert.Equal(newestFirst.Take(3), RecordIds(await Call("getRecordings", ("meetingID", meeting), ("limit", "3"))));
        Assert.Equal(newestFirst.Skip(12).Take(15), RecordIds(await Call("getRecordings", ("meetingID", meeting), ("offset", "12"), ("limit", "15"))));
        Assert.Equal(newestFirst.Skip(30), RecordIds(await Call("getRecordings", ("meetingID", meeting), ("offset", "30"), ("limit", "100"))));
        Assert.Equal(newestFirst.Skip(7), RecordIds(await Call("getRecordings", ("meetingID", meeting), ("offset", "7"))));
        Assert.Equal("noRecordings", (await Call("getRecordings", ("meetingID", meeting), ("offset", "35"))).Element("messageKey")?.Value);
    }

    [Theory]
    [InlineData("offset", "-1", "invalidParamOffset")]
    [InlineData("offset", "abc", "invalidParamOffset")]
    [InlineData("offset", "1.5", "invalidParamOffset")]
    [InlineData("limit", "0", "invalidParamLimit")]
    [InlineData("limit", "101", "invalidParamLimit")]
    [InlineData("limit", "", "invalidParamLimit")]
    [InlineData("limit", "ten", "invalidParamLimit")]
    public async Task GetRecordings_BadPagination_AnswersFailedXml(string key, string value, string messageKey)
    {
        XmlAssert.Failed(await Call("getRecordings", (key, value)), messageKey);
    }

    [Fact]
    public async Task RecordingCalls_MissingParameters_AnswerFailedXml()
    {
        XmlAssert.Failed(await Call("publishRecordings", ("publish", "true")), "missingParamRecordID");
        XmlAssert.Failed(await Call("publishRecordings", ("recordID", "x")), "missingParamPublish");
        XmlAssert.Failed(await Call("publishRecordings", ("recordID", "x"), ("publish", "")), "missingParamPublish");
        XmlAssert.Failed(await Call("deleteRecordings"), "missingParamRecordID");
        XmlAssert.Failed(await Call("updateRecordings", ("meta_a", "b")), "missingParamRecordID");
        XmlAssert.Failed(await Call("publishRecordings", ("recordID", Unique("unknown")), ("publish", "true")), "notFound");
        XmlAssert.Failed(await Call("deleteRecordings", ("recordID", Unique("unknown"))), "notFound");
        Assert.Equal("false", (await Call("updateRecordings", ("recordID", Unique("unknown")), ("meta_a", "b"))).Element("updated")?.Value);
        XmlAssert.Failed(await _client.GetXmlAsync(_client.Url("getRecordings", "meetingID=x").Replace("checksum=", "checksum=0", StringComparison.Ordinal)), "checksumError");
    }

    [Fact]
    public async Task PublishRecordings_False_MovesFilesAndHidesItFromPublished()
    {
        var meeting = Unique("pub");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        var root = await Call("publishRecordings", ("recordID", recording.RecordId), ("publish", "false"));

        XmlAssert.Success(root);
        Assert.Equal("false", root.Element("published")!.Value);
        foreach (var format in new[] { "presentation", "podcast" })
        {
            Assert.False(Directory.Exists(fixture.Data.FormatDir(format, recording.RecordId, published: true)));
            Assert.True(File.Exists(Path.Combine(fixture.Data.FormatDir(format, recording.RecordId, published: false), "metadata.xml")));
        }

        Assert.Equal("noRecordings", (await Call("getRecordings", ("meetingID", meeting), ("state", "published"))).Element("messageKey")?.Value);
        var unpublished = Recordings(await Call("getRecordings", ("meetingID", meeting)));
        Assert.Equal("unpublished", Assert.Single(unpublished).Element("state")!.Value);
        Assert.Equal("false", unpublished[0].Element("published")!.Value);

        // And back: publish=true moves the files again; repeating it is harmless.
        XmlAssert.Success(await Call("publishRecordings", ("recordID", recording.RecordId), ("publish", "true")));
        XmlAssert.Success(await Call("publishRecordings", ("recordID", recording.RecordId), ("publish", "true")));
        Assert.True(File.Exists(Path.Combine(fixture.Data.FormatDir("podcast", recording.RecordId, published: true), "metadata.xml")));
        Assert.False(Directory.Exists(fixture.Data.FormatDir("podcast", recording.RecordId, published: false)));
        Assert.Equal([recording.RecordId], RecordIds(await Call("getRecordings", ("meetingID", meeting), ("state", "published"))));
    }

    [Fact]
    public async Task DeleteRecordings_RemovesFilesAndMarksItDeleted()
    {
        var meeting = Unique("del");
        var recording = RecordingData.New(meeting + "-r", meeting);
        var unpublished = RecordingData.New(meeting + "-u", meeting, state: RecordingState.Unpublished);
        await fixture.Data.AddAsync(recording, unpublished);

        var root = await Call("deleteRecordings", ("recordID", $"{recording.RecordId},{unpublished.RecordId}"));

        XmlAssert.Success(root);
        Assert.Equal("true", root.Element("deleted")!.Value);
        foreach (var id in new[] { recording.RecordId, unpublished.RecordId })
        {
            foreach (var format in new[] { "presentation", "podcast" })
            {
                Assert.False(Directory.Exists(fixture.Data.FormatDir(format, id, published: true)));
                Assert.False(Directory.Exists(fixture.Data.FormatDir(format, id, published: false)));
            }

            var row = await fixture.Data.FindAsync(id);
            Assert.Equal(RecordingState.Deleted, row!.State);
            Assert.False(row.Published);
            Assert.NotNull(row.DeletedAt);
        }

        Assert.Equal("noRecordings", (await Call("getRecordings", ("meetingID", meeting))).Element("messageKey")?.Value);
        Assert.Equal(2, RecordIds(await Call("getRecordings", ("meetingID", meeting), ("state", "deleted"))).Count);
        XmlAssert.Failed(await Call("deleteRecordings", ("recordID", recording.RecordId)), "notFound");
    }

    [Fact]
    public async Task UpdateRecordings_Metadata_UpsertsAndEmptyValueDeletes()
    {
        var meeting = Unique("upd");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        var root = await Call("updateRecordings", ("recordID", recording.RecordId), ("meta_course", "maths"), ("meta_added", "yes"), ("meta_bbb-origin", ""));

        XmlAssert.Success(root);
        Assert.Equal("true", root.Element("updated")!.Value);
        var metadata = Recordings(await Call("getRecordings", ("recordID", recording.RecordId))).Single().Element("metadata")!;
        Assert.Equal("maths", metadata.Element("course")!.Value);
        Assert.Equal("yes", metadata.Element("added")!.Value);
        Assert.Null(metadata.Element("bbb-origin"));
        Assert.Equal([recording.RecordId], RecordIds(await Call("getRecordings", ("meetingID", meeting), ("meta_added", "yes"))));
    }

    [Fact]
    public async Task TextTracks_PutThenGet_RoundTripsTheCaptionFile()
    {
        var meeting = Unique("tt");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        var empty = await GetJson(_client.Url("getRecordingTextTracks", BbbTestClient.Query(("recordID", recording.RecordId))));
        Assert.Equal("SUCCESS", empty.GetProperty("returncode").GetString());
        Assert.Equal(0, empty.GetProperty("tracks").GetArrayLength());

        const string vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n";
        var put = await PutTrack(recording.RecordId, "captions", "en-US", "English", vtt);
        Assert.Equal("SUCCESS", put.GetProperty("returncode").GetString());
        Assert.Equal("upload_text_track_success", put.GetProperty("messageKey").GetString());

        var listed = await GetJson(_client.Url("getRecordingTextTracks", BbbTestClient.Query(("recordID", recording.RecordId))));
        var track = Assert.Single(listed.GetProperty("tracks").EnumerateArray());
        Assert.Equal("captions", track.GetProperty("kind").GetString());
        Assert.Equal("en-US", track.GetProperty("lang").GetString());
        Assert.Equal("English", track.GetProperty("label").GetString());
        Assert.Equal("upload", track.GetProperty("source").GetString());
        var href = track.GetProperty("href").GetString()!;
        Assert.Equal($"{fixture.Origin}/captions/{recording.RecordId}/captions_en-US.vtt", href);
        var stored = Path.Combine(fixture.Data.PublishDir, "captions", recording.RecordId, "captions_en-US.vtt");
        Assert.Equal(vtt, await File.ReadAllTextAsync(stored));

        // The same kind and language again replaces the track.
        await PutTrack(recording.RecordId, "captions", "en-US", "English (edited)", "WEBVTT\n");
        listed = await GetJson(_client.Url("getRecordingTextTracks", BbbTestClient.Query(("recordID", recording.RecordId))));
        Assert.Equal("English (edited)", Assert.Single(listed.GetProperty("tracks").EnumerateArray()).GetProperty("label").GetString());
        Assert.Equal("WEBVTT\n", await File.ReadAllTextAsync(stored));
    }

    [Fact]
    public async Task TextTracks_BadInput_AnswersJsonFailures()
    {
        var meeting = Unique("ttbad");
        var recording = RecordingData.New(meeting + "-r", meeting);
        await fixture.Data.AddAsync(recording);

        Assert.Equal("missingParamRecordID", (await GetJson(_client.Url("getRecordingTextTracks"))).GetProperty("messageKey").GetString());
        Assert.Equal("noRecordings", (await GetJson(_client.Url("getRecordingTextTracks", "recordID=nope"))).GetProperty("messageKey").GetString());
        Assert.Equal("checksumError", (await GetJson(_client.Url("getRecordingTextTracks", "recordID=x") + "0")).GetProperty("messageKey").GetString());
        Assert.Equal("invalidKind", (await PutTrack(recording.RecordId, "chapters", "en", "x", "WEBVTT\n")).GetProperty("messageKey").GetString());
        Assert.Equal("invalidLang", (await PutTrack(recording.RecordId, "captions", "../../x", "x", "WEBVTT\n")).GetProperty("messageKey").GetString());
        Assert.Equal("empty_uploaded_text_track", (await PutTrack(recording.RecordId, "captions", "en", "x", "")).GetProperty("messageKey").GetString());
        Assert.Equal("noRecordings", (await PutTrack("nope", "captions", "en", "x", "WEBVTT\n")).GetProperty("messageKey").GetString());
    }

    private async Task<JsonElement> PutTrack(string recordId, string kind, string lang, string label, string content)
    {
        var url = _client.Url("putRecordingTextTrack", BbbTestClient.Query(("recordID", recordId), ("kind", kind), ("lang", lang), ("label", label)));
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/vtt");
        form.Add(file, "file", "captions.vtt");
        using var response = await _client.Http.PostAsync(url, form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("response");
    }

    private async Task<JsonElement> GetJson(string url)
    {
        using var response = await _client.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("response");
    }
}
