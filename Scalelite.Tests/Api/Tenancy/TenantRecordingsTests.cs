using System.Net;
using System.Net.Http.Headers;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using Scalelite.Core.Persistence;
using Scalelite.Core.Persistence.Recordings;
using Scalelite.Tests.Api.Recordings;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Tenancy;

/// <summary>
/// Recordings by tenant: listed, published, updated, deleted, captioned and played only by their own tenant, on its
/// own host or path, meta filters included (Scalelite's tenant filter and a meta filter on the same row found nothing).
/// </summary>
public sealed class TenantRecordingsTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Recordings_TwoHostTenantsAndAPathTenant_EachReachesOnlyItsOwn()
    {
        var volume = Directory.CreateTempSubdirectory("scalelite-tenant-recordings-").FullName;
        try
        {
            await using var pool = await TenantPool.StartAsync(infrastructure, 1,
                ("Recording:PublishDir", Path.Combine(volume, "published")),
                ("Recording:UnpublishDir", Path.Combine(volume, "unpublished")));
            var data = new RecordingData(pool.ApiService<IDbContextFactory<ScaleliteDbContext>>(), Path.Combine(volume, "published"), Path.Combine(volume, "unpublished"));
            var one = await pool.AddTenantAsync("one", "one-secret");
            var two = await pool.AddTenantAsync("two", "two-secret");
            var three = await pool.AddTenantAsync("three", "three-secret");
            using var oneLms = pool.HostClient("one", "one-secret");
            using var twoLms = pool.HostClient("two", "two-secret");
            using var threeLms = pool.PathClient("three", "three-secret");

            // Recordings of one meeting ID for several tenants (each ran it in turn), and one from before tenants.
            var mine = Tenanted(RecordingData.New("rec-one", "lecture"), one.Id);
            var theirs = Tenanted(RecordingData.New("rec-two", "lecture", RecordingData.Epoch.AddHours(1)), two.Id);
            var path = Tenanted(RecordingData.New("rec-three", "lecture", RecordingData.Epoch.AddHours(2)), three.Id);
            var before = RecordingData.New("rec-old", "lecture", RecordingData.Epoch.AddHours(-1));
            await data.AddAsync(mine, theirs, path, before);

            Assert.Equal(["rec-one"], await ListAsync(oneLms));
            Assert.Equal(["rec-two"], await ListAsync(twoLms));
            Assert.Equal(["rec-three"], await ListAsync(threeLms));
            Assert.Equal(["rec-old"], await ListAsync(pool.Client));

            // Filters never widen the view: by meetingID, by recordID prefix, by another tenant's record ID, with meta filters.
            Assert.Equal(["rec-one"], await ListAsync(oneLms, ("meetingID", "lecture")));
            Assert.Equal(["rec-one"], await ListAsync(oneLms, ("recordID", "rec-")));
            Assert.Empty(await ListAsync(oneLms, ("recordID", "rec-two,rec-three")));
            Assert.Equal(["rec-one"], await ListAsync(oneLms, ("meta_course", "physics")));
            Assert.Equal(["rec-one"], await ListAsync(oneLms, ("meta_tenant-id", one.Id)));
            Assert.Empty(await ListAsync(oneLms, ("meta_tenant-id", two.Id)));

            // Commands on another tenant's recordings find nothing and change nothing.
            XmlAssert.Failed(await oneLms.CallAsync("publishRecordings", ("recordID", "rec-two"), ("publish", "false")), "notFound");
            // updateRecordings answers as Scalelite: SUCCESS, updated false, when a recordID is not found (here: not the tenant's).
            Assert.Equal("false", (await oneLms.CallAsync("updateRecordings", ("recordID", "rec-three"), ("meta_course", "stolen"))).Element("updated")?.Value);
            XmlAssert.Failed(await threeLms.CallAsync("deleteRecordings", ("recordID", "rec-one")), "notFound");
            using (var tracks = await oneLms.Http.GetAsync(oneLms.Url("getRecordingTextTracks", "recordID=rec-two")))
            {
                Assert.Contains("\"noRecordings\"", await tracks.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            Assert.Equal("physics", (await data.FindAsync("rec-three"))!.Metadata.Single(m => m.Key == "course").Value);
            Assert.True((await data.FindAsync("rec-two"))!.Published);
            Assert.NotNull(await data.FindAsync("rec-one"));

            // A tenant cannot re-label its recordings as another's.
            XmlAssert.Success(await oneLms.CallAsync("updateRecordings", ("recordID", "rec-one"), ("meta_tenant-id", two.Id), ("meta_course", "chemistry")));
            var updated = (await data.FindAsync("rec-one"))!;
            Assert.Equal(one.Id, updated.TenantId);
            Assert.Equal("chemistry", updated.Metadata.Single(m => m.Key == "course").Value);
            Assert.Equal(one.Id, updated.Metadata.Single(m => m.Key == "tenant-id").Value);

            // Links lead back to the tenant's own host or path.
            var oneUrl = (await RecordingsAsync(oneLms)).Single().Descendants("url").First().Value;
            Assert.StartsWith($"http://one.{TenantPool.UrlHost}/", oneUrl, StringComparison.Ordinal);
            var threeUrl = (await RecordingsAsync(threeLms)).Single().Descendants("url").First().Value;
            Assert.StartsWith($"http://{TenantPool.UrlHost}/t/three/", threeUrl, StringComparison.Ordinal);

            // Playback: only on the recording's own tenant's host or path.
            Assert.Equal(HttpStatusCode.OK, await PlayAsync(pool, $"one.{TenantPool.UrlHost}", "/recording-resource/podcast/rec-one/audio.ogg"));
            Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(pool, $"two.{TenantPool.UrlHost}", "/recording-resource/podcast/rec-one/audio.ogg"));
            Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(pool, null, "/t/three/recording-resource/podcast/rec-one/audio.ogg"));
            Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(pool, null, "/recording-resource/podcast/rec-one/audio.ogg"));
            Assert.Equal(HttpStatusCode.OK, await PlayAsync(pool, null, "/t/three/recording-resource/podcast/rec-three/audio.ogg"));
            Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(pool, $"one.{TenantPool.UrlHost}", "/recording-resource/podcast/rec-three/audio.ogg"));
            Assert.Equal(HttpStatusCode.OK, await PlayAsync(pool, null, "/recording-resource/podcast/rec-old/audio.ogg"));
            Assert.Equal(HttpStatusCode.NotFound, await PlayAsync(pool, $"two.{TenantPool.UrlHost}", "/recording-resource/podcast/rec-old/audio.ogg"));

            // The owner's own commands still work.
            XmlAssert.Success(await twoLms.CallAsync("deleteRecordings", ("recordID", "rec-two")));
            Assert.Empty(await ListAsync(twoLms));
        }
        finally
        {
            Directory.Delete(volume, recursive: true);
        }
    }

    private static Recording Tenanted(Recording recording, string tenantId)
    {
        recording.TenantId = tenantId;
        recording.Metadata.Add(new RecordingMetadata { Key = "tenant-id", Value = tenantId });
        return recording;
    }

    private static async Task<List<XElement>> RecordingsAsync(BbbTestClient client, params (string, string)[] filters)
    {
        var answer = await client.CallAsync("getRecordings", filters);
        XmlAssert.Success(answer);
        return [.. answer.Element("recordings")?.Elements("recording") ?? []];
    }

    private static async Task<List<string>> ListAsync(BbbTestClient client, params (string, string)[] filters) =>
        [.. (await RecordingsAsync(client, filters)).Select(r => r.Element("recordID")!.Value).Order(StringComparer.Ordinal)];

    private static async Task<HttpStatusCode> PlayAsync(PoolHarness pool, string? host, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pool.Client.Origin + path);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));
        using var response = await pool.Client.Http.SendAsync(request);
        return response.StatusCode;
    }
}
