using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Scalelite.AppHost;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// A recording's whole trip through the running system: a meeting on a simulated BBB server, its recording dropped on
/// the shared volume's spool as a BBB node's post-publish step would, imported by RecordingSync, and answered by the
/// API's recording calls, as an LMS sees them.
/// </summary>
[Collection(TopologyCollection.Name)]
public sealed class RecordingFlowTests(ScaleliteAppFixture fixture)
{
    [Fact]
    public async Task MeetingRecording_ThroughTheSpool_IsListedPublishedUnpublishedAndDeleted()
    {
        var endpoints = fixture.Endpoints;
        using var client = new BbbTestClient(endpoints.Api.Url, endpoints.Api.Secret);
        var created = await client.CreateAsync("recorded-class", ("record", "true"), ("meta_course", "Physics 101"));
        XmlAssert.Success(created);
        var internalId = created.Element("internalMeetingID")!.Value;

        // The owning simulator records the meeting and hands the archive to the topology's spool, which it knows.
        var recordings = Path.Combine(fixture.StateDirectory, "recordings");
        var spool = Path.Combine(recordings, "spool");
        SimulatorEndpoint? owner = null;
        string? recordId = null;
        foreach (var sim in endpoints.Simulators)
        {
            using var response = await client.Http.PostAsync($"{sim.Control}/recordings/recorded-class?thumbnails=2", null);
            if (response.IsSuccessStatusCode)
            {
                owner = sim;
                recordId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recordID").GetString();
                break;
            }
        }

        Assert.NotNull(owner);
        Assert.NotNull(recordId);

        XElement? recording = null;
        await Eventually.TrueAsync(async () =>
        {
            var answer = await client.CallAsync("getRecordings", ("meetingID", "recorded-class"));
            recording = answer.Element("recordings")?.Element("recording");
            return recording is not null;
        }, TimeSpan.FromSeconds(60), "RecordingSync has imported the archive");

        // Every field of the contract, and the playback on our host rather than the BBB server's.
        Assert.Equal(recordId, recording!.Element("recordID")?.Value);
        Assert.Equal("recorded-class", recording.Element("meetingID")?.Value);
        Assert.Equal(internalId, recording.Element("internalMeetingID")?.Value);
        Assert.False(string.IsNullOrEmpty(recording.Element("name")?.Value));
        Assert.Equal("false", recording.Element("isBreakout")?.Value);
        Assert.Equal("true", recording.Element("published")?.Value);
        Assert.Equal("published", recording.Element("state")?.Value);
        Assert.True(long.Parse(recording.Element("startTime")!.Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(long.Parse(recording.Element("endTime")!.Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.NotNull(recording.Element("participants"));
        Assert.NotNull(recording.Element("rawSize"));
        Assert.Equal("Physics 101", recording.Element("metadata")?.Element("course")?.Value);
        var formats = recording.Element("playback")!.Elements("format").ToList();
        Assert.Equal(["podcast", "presentation", "video"], formats.Select(f => f.Element("type")!.Value).Order());
        var apiAuthority = new Uri(endpoints.Api.Url).Authority;
        Assert.All(formats, f => Assert.Equal(apiAuthority, new Uri(f.Element("url")!.Value).Authority));
        var presentation = formats.Single(f => f.Element("type")!.Value == "presentation");
        Assert.NotNull(presentation.Element("length"));
        Assert.NotEmpty(presentation.Element("preview")!.Element("images")!.Elements("image"));

        var published = Path.Combine(recordings, "published", "presentation", recordId!);
        var unpublished = Path.Combine(recordings, "unpublished", "presentation", recordId!);
        Assert.True(Directory.Exists(published), $"{published} holds the imported files");
        Assert.Empty(Directory.GetFiles(spool, "*.tar*"));

        // Unpublish: the files move, and the recording leaves the published list.
        XmlAssert.Success(await client.CallAsync("publishRecordings", ("recordID", recordId!), ("publish", "false")));
        Assert.False(Directory.Exists(published));
        Assert.True(Directory.Exists(unpublished));
        var onlyPublished = await client.CallAsync("getRecordings", ("meetingID", "recorded-class"), ("state", "published"));
        Assert.Null(onlyPublished.Element("recordings")?.Element("recording"));

        // Delete: the files go, and the index keeps it as deleted.
        XmlAssert.Success(await client.CallAsync("deleteRecordings", ("recordID", recordId!)));
        Assert.False(Directory.Exists(unpublished));
        var deleted = await client.CallAsync("getRecordings", ("recordID", recordId!), ("state", "deleted"));
        Assert.Equal("deleted", deleted.Element("recordings")?.Element("recording")?.Element("state")?.Value);
    }
}
