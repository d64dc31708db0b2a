using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Scalelite.Cli;
using Scalelite.Core.Bbb;
using Scalelite.Core.Pool;
using Scalelite.Core.Tenancy;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;
using StackExchange.Redis;

namespace Scalelite.Tests.Cli;

/// <summary>
/// <c>scalelite migrate from-scalelite</c> against a Scalelite deployment built in Scalelite's own layout, checked
/// through the BBB API, the admin API and dial-in, as an LMS and an operator would see it.
/// </summary>
public sealed class MigrateFromScaleliteTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private const int RecordingCount = 1000;

    /// <summary>A pool with no servers yet, a recording volume, and the CLI's environment pointing at both.</summary>
    private sealed class Target : IAsyncDisposable
    {
        private readonly string _volume = Directory.CreateTempSubdirectory("scalelite-migrate-").FullName;

        public PoolHarness Pool { get; private set; } = null!;

        public string PublishDir => Path.Combine(_volume, "published");

        public string UnpublishDir => Path.Combine(_volume, "unpublished");

        public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal);

        public string Origin => new Uri(Pool.ApiBase).GetLeftPart(UriPartial.Authority);

        /// <param name="multitenant">Multitenancy on, the bare host serving the default tenant, tenants by path (no URL_HOST, so links stay on the pool's address).</param>
        public static async Task<Target> StartAsync(InfrastructureFixture infrastructure, int simulators, bool multitenant = false)
        {
            var target = new Target();
            var settings = new Dictionary<string, string?>
            {
                ["Recording:PublishDir"] = target.PublishDir,
                ["Recording:UnpublishDir"] = target.UnpublishDir,
                ["Recording:ProtectedRecordingsEnabled"] = "true",
            };
            if (multitenant)
            {
                settings["Scalelite:MultitenancyEnabled"] = "true";
                settings["Tenancy:DefaultTenant"] = "true";
            }

            target.Pool = await PoolHarness.StartAsync(infrastructure, simulators, settings, registerServers: false);
            target.Environment["ConnectionStrings__scalelite"] = target.Pool.Database;
            target.Environment["ConnectionStrings__redis"] = target.Pool.Redis;
            target.Environment["RECORDING_PUBLISH_DIR"] = target.PublishDir;
            target.Environment["RECORDING_UNPUBLISH_DIR"] = target.UnpublishDir;
            target.Environment["LOADBALANCER_SECRET"] = PoolHarness.Secret;
            return target;
        }

        public async Task<(int Exit, string Out, string Err)> MigrateAsync(ScaleliteDeployment source, params string[] extra)
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var exit = await new CliApp(output, error, name => Environment.GetValueOrDefault(name))
                .InvokeAsync(["migrate", "from-scalelite", "--database-url", source.DatabaseUrl, "--redis-url", source.RedisUrl, .. extra]);
            // The API reloads the server list every second; the checks that follow should not depend on that timing.
            await Pool.Api.Services.GetRequiredService<IServerDirectory>().RefreshAsync();
            return (exit, output.ToString(), error.ToString());
        }

        /// <summary>Everything a migration writes here: our tables and the registry's keys in Redis.</summary>
        public async Task<string> SnapshotAsync()
        {
            var text = new StringBuilder();
            await using (var connection = new NpgsqlConnection(Pool.Database))
            {
                await connection.OpenAsync();
                foreach (var table in new[] { "servers", "server_events", "tenants", "tenant_settings", "recordings", "recording_metadata", "playback_formats", "thumbnails", "callbacks", "migrated_rows" })
                {
                    await using var command = new NpgsqlCommand($"SELECT t::text FROM {table} t ORDER BY 1", connection);
                    await using var reader = await command.ExecuteReaderAsync();
                    text.Append("== ").AppendLine(table);
                    while (await reader.ReadAsync())
                    {
                        text.AppendLine(reader.GetString(0));
                    }
                }
            }

            var redis = Pool.Api.Services.GetRequiredService<IConnectionMultiplexer>();
            var db = redis.GetDatabase();
            var server = redis.GetServers()[0];
            foreach (var key in server.Keys(db.Database, "sl:*", pageSize: 1000).Select(k => k.ToString()).Order(StringComparer.Ordinal))
            {
                if (key.StartsWith("sl:m:", StringComparison.Ordinal))
                {
                    text.Append(key).Append(' ').AppendJoin(", ", (await db.HashGetAllAsync(key)).Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal)).AppendLine();
                }
                else if (key.StartsWith("sl:vb:", StringComparison.Ordinal))
                {
                    text.Append(key).Append(' ').AppendLine(await db.StringGetAsync(key));
                }
                else if (key.EndsWith(":m", StringComparison.Ordinal))
                {
                    text.Append(key).Append(' ').AppendJoin(", ", (await db.SetMembersAsync(key)).Select(v => v.ToString()).Order(StringComparer.Ordinal)).AppendLine();
                }
            }

            return text.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            await Pool.DisposeAsync();
            Directory.Delete(_volume, recursive: true);
        }
    }

    [Fact]
    public async Task FromScalelite_RunningDeployment_EveryRecordingJoinAndDialInAnswersAsInScaleliteAndASecondRunChangesNothing()
    {
        await using var target = await Target.StartAsync(infrastructure, simulators: 3, multitenant: true);
        await using var source = await ScaleliteDeployment.CreateAsync(infrastructure);
        var sims = target.Pool.Simulators.Servers;

        // Servers as Scalelite keeps them: enabled, cordoned with a tag, a row older than the state field, and a
        // disabled one that is gone.
        var servers = new[]
        {
            new ScaleliteServerRow(Guid.NewGuid().ToString(), sims[0].ApiUrl + "/", sims[0].Secret, null, "enabled", "1.0", true, Load: 12),
            new ScaleliteServerRow(Guid.NewGuid().ToString(), sims[1].ApiUrl, sims[1].Secret, "big", "cordoned", "2.5", true, Load: 3),
            new ScaleliteServerRow(new Uri(sims[2].ApiUrl).Host + "-" + sims[2].Port, sims[2].ApiUrl, sims[2].Secret, null, null, null, true, LegacyEnabled: true, Load: 0),
            new ScaleliteServerRow(Guid.NewGuid().ToString(), "https://bbb-gone.example.com/bigbluebutton/api", "gone-secret", "old", "disabled", "0.5", false),
        };
        foreach (var server in servers)
        {
            await source.AddServerAsync(server);
        }

        // Meetings running now, on the simulators, as Scalelite placed them (with its voice bridges).
        var meetings = new List<(string MeetingId, int Server, string VoiceBridge)>();
        for (var i = 0; i < 6; i++)
        {
            var meeting = (MeetingId: $"running-{i}", Server: i % 3, VoiceBridge: (713_000_100 + i).ToString(CultureInfo.InvariantCulture));
            using var direct = new BbbTestClient(sims[meeting.Server].ApiUrl, sims[meeting.Server].Secret);
            XmlAssert.Success(await direct.CreateAsync(meeting.MeetingId, ("voiceBridge", meeting.VoiceBridge)));
            await source.AddMeetingAsync(meeting.MeetingId, servers[meeting.Server].Id, meeting.VoiceBridge);
            meetings.Add(meeting);
        }

        await source.AddMeetingAsync("on-unknown-server", "no-such-server", "799999999");

        // Two tenants with settings, one of them with a running meeting and recordings.
        var alpha = Guid.NewGuid().ToString();
        await source.AddTenantAsync(alpha, "alpha", "alpha-1:alpha-2", ("s1", "record", "false", false), ("s2", "meta_origin", "alpha", true));
        await source.AddTenantAsync(Guid.NewGuid().ToString(), "beta", "beta-1", ("s3", "maxParticipants", "50", true));
        using (var direct = new BbbTestClient(sims[0].ApiUrl, sims[0].Secret))
        {
            XmlAssert.Success(await direct.CreateAsync("alpha-meeting", ("voiceBridge", "714000000"), ("meta_tenant-id", alpha)));
        }

        await source.AddMeetingAsync("alpha-meeting", servers[0].Id, "714000000", tenantId: alpha);

        var recordings = GenerateRecordings(RecordingCount);
        var tenantRecordings = GenerateRecordings(2, firstId: RecordingCount + 1).Select(r => r with { MeetingId = "alpha-" + r.MeetingId }).ToList();
        foreach (var r in tenantRecordings)
        {
            r.Metadata.Add(("tenant-id", alpha));
        }

        await source.AddRecordingsAsync([.. recordings, .. tenantRecordings]);
        var missing = recordings.First(r => r.Formats.Count > 0 && r.State != "deleted");
        var misplaced = recordings.Last(r => r.Formats.Count > 0 && r.State != "deleted" && r.Published);
        foreach (var r in recordings.Concat(tenantRecordings).Where(r => r.State != "deleted" && r != missing))
        {
            foreach (var f in r.Formats)
            {
                Directory.CreateDirectory(Path.Combine(r.Published == (r != misplaced) ? target.PublishDir : target.UnpublishDir, f.Format, r.RecordId));
            }
        }

        await source.AddCallbackAsync("course-1", null, "---\n:recording_ready_url: https://lms.example.com/ready?course=1\n");
        await source.AddCallbackAsync("course-2", 5, "---\n:recording_ready_url: https://lms.example.com/ready2\n:analytics_callback_url: https://lms.example.com/analytics\n");
        await source.AddCallbackAsync("course-3", 7, "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nrecording_ready_url: https://lms.example.com/ready3\n");
        var untouched = await source.SnapshotAsync();

        // A dry run says what would change and changes nothing, here or there.
        var before = await target.SnapshotAsync();
        var dry = await target.MigrateAsync(source, "--dry-run");
        Assert.True(dry.Exit == 0, dry.Out + dry.Err);
        Assert.Contains("Dry run", dry.Out, StringComparison.Ordinal);
        Assert.Contains("servers: 4 added, 0 updated", dry.Out, StringComparison.Ordinal);
        Assert.Contains("tenants: 2 added, 0 updated", dry.Out, StringComparison.Ordinal);
        Assert.Contains($"recordings: {RecordingCount + 2} added, 0 updated", dry.Out, StringComparison.Ordinal);
        Assert.Contains("meetings: 7 added", dry.Out, StringComparison.Ordinal);
        Assert.Equal(before, await target.SnapshotAsync());
        Assert.Equal(untouched, await source.SnapshotAsync());

        var run = await target.MigrateAsync(source);
        Assert.True(run.Exit == 0, run.Out + run.Err);
        Assert.Contains("servers: 4 added, 0 updated", run.Out, StringComparison.Ordinal);
        Assert.Contains("meetings: 7 added, 0 updated, 0 unchanged, 0 changed here (kept), 0 conflicts (ours kept), 1 skipped", run.Out, StringComparison.Ordinal);
        Assert.Contains($"recordings: {RecordingCount + 2} added, 0 updated", run.Out, StringComparison.Ordinal);
        Assert.Contains("callbacks: 4 added", run.Out, StringComparison.Ordinal);
        Assert.Contains("tenants: 2 added, 0 updated, 0 unchanged", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("waiting for their tenants", run.Out, StringComparison.Ordinal);
        Assert.Contains("2 with missing files", run.Out, StringComparison.Ordinal);
        Assert.Contains($"recording {missing.RecordId} (", run.Out, StringComparison.Ordinal);
        Assert.Contains($"recording {misplaced.RecordId} (published): missing {misplaced.Formats[0].Format} (in the unpublished tree instead)", run.Out, StringComparison.Ordinal);
        Assert.Equal(untouched, await source.SnapshotAsync());

        await AssertRecordingsAnswerAsTheirRowsAsync(target, recordings);
        await AssertServersAsync(target, servers);

        // Joins reach the server each meeting runs on, and dial-in bridges to it.
        foreach (var (meetingId, index, voiceBridge) in meetings)
        {
            using var join = await target.Pool.Client.JoinAsync(meetingId);
            Assert.Equal(HttpStatusCode.Found, join.StatusCode);
            Assert.StartsWith(sims[index].ApiUrl + "/join?", join.Headers.Location!.ToString(), StringComparison.Ordinal);
            var bridge = await DialInAsync(target, voiceBridge);
            Assert.Contains($"data=\"meeting_id={meetingId}\"", bridge, StringComparison.Ordinal);
        }

        // The tenants, with Scalelite's ids, secrets and settings; each sees its own meeting and recordings, by path.
        var tenants = await target.Pool.ApiService<TenantStore>().ListAsync(CancellationToken.None);
        Assert.Equal(["alpha", "beta"], tenants.Select(t => t.Name));
        Assert.Equal(alpha, tenants[0].Id);
        Assert.Equal("alpha-1:alpha-2", tenants[0].Secrets);
        Assert.Equal(["s1 record=false default", "s2 meta_origin=alpha override"],
            tenants[0].Settings.OrderBy(x => x.Id, StringComparer.Ordinal).Select(x => $"{x.Id} {x.Param}={x.Value} {(x.Override ? "override" : "default")}"));
        Assert.Equal("s3 maxParticipants=50 True", tenants[1].Settings.Select(x => $"{x.Id} {x.Param}={x.Value} {x.Override}").Single());
        using (var alphaLms = new BbbTestClient(TenantPool.PathBase(target.Pool.ApiBase, "alpha"), "alpha-2"))
        {
            var alphaRecordings = (await alphaLms.CallAsync("getRecordings", ("state", "any"))).Element("recordings")!.Elements("recording");
            Assert.Equal(tenantRecordings.Select(r => r.RecordId).Order(StringComparer.Ordinal), alphaRecordings.Select(r => r.Element("recordID")!.Value).Order(StringComparer.Ordinal));
            using var alphaJoin = await alphaLms.JoinAsync("alpha-meeting");
            Assert.StartsWith(sims[0].ApiUrl + "/join?", alphaJoin.Headers.Location!.ToString(), StringComparison.Ordinal);
            using var defaultJoin = await target.Pool.Client.JoinAsync("alpha-meeting");
            XmlAssert.Failed(await BbbTestClient.ReadXmlAsync(defaultJoin), "notFound");

            // Its settings reach what the server is sent.
            XmlAssert.Success(await alphaLms.CreateAsync("alpha-new", ("meta_origin", "lms")));
            var sent = sims.SelectMany(sim => sim.GetReceivedCalls("create")).Single(c => c["meetingID"] == "alpha-new");
            Assert.Equal("false", sent["record"]);
            Assert.Equal("alpha", sent["meta_origin"]);
            XmlAssert.Success(await alphaLms.CallAsync("end", ("meetingID", "alpha-new")));
        }

        // The callbacks an LMS asked for at create are waiting for recordings of their meetings.
        Assert.Equal(
            ["analytics course-2 https://lms.example.com/analytics", "recording-ready course-1 https://lms.example.com/ready?course=1",
             "recording-ready course-2 https://lms.example.com/ready2", "recording-ready course-3 https://lms.example.com/ready3"],
            await QueryAsync(target.Pool.Database, "SELECT kind || ' ' || meeting_id || ' ' || url FROM callbacks WHERE status = 'captured' ORDER BY 1"));

        // Again: nothing changes, here or there.
        var migrated = await target.SnapshotAsync();
        var again = await target.MigrateAsync(source);
        Assert.True(again.Exit == 0, again.Out + again.Err);
        Assert.Contains("Done: nothing needed to change.", again.Out, StringComparison.Ordinal);
        Assert.Contains($"recordings: 0 added, 0 updated, {RecordingCount + 2} unchanged", again.Out, StringComparison.Ordinal);
        Assert.Contains("tenants: 0 added, 0 updated, 2 unchanged", again.Out, StringComparison.Ordinal);
        Assert.Equal(migrated, await target.SnapshotAsync());
        Assert.Equal(untouched, await source.SnapshotAsync());
    }

    [Fact]
    public async Task FromScalelite_ScaleliteKeptWorking_AddsWhatIsNewTakesItsChangesAndKeepsOurs()
    {
        await using var target = await Target.StartAsync(infrastructure, simulators: 2);
        await using var source = await ScaleliteDeployment.CreateAsync(infrastructure);
        var sims = target.Pool.Simulators.Servers;
        var first = new ScaleliteServerRow("bbb-1", sims[0].ApiUrl, sims[0].Secret, null, "enabled", "1.0", true);
        await source.AddServerAsync(first);
        var recordings = GenerateRecordings(12).Where(r => r.State == "published").Select(r => r with { Protected = false }).Take(4).ToList();
        await source.AddRecordingsAsync(recordings[..3]);
        Assert.Equal(0, (await target.MigrateAsync(source)).Exit);

        // After the first run, the LMS still talks to Scalelite: a new recording, a changed one, a new server and
        // a new meeting; one recording is also changed here, differently, and another only here.
        await source.AddRecordingsAsync([recordings[3]]);
        await source.ExecuteAsync("UPDATE metadata SET value = 'changed in Scalelite' WHERE key = 'course' AND recording_id IN (@a, @b)",
            ("a", recordings[0].Id), ("b", recordings[1].Id));
        await source.UpdateServerAsync("bbb-1", "tag", "fresh");
        await source.AddServerAsync(new ScaleliteServerRow("bbb-2", sims[1].ApiUrl, sims[1].Secret, null, "enabled", "1.0", true));
        using (var direct = new BbbTestClient(sims[1].ApiUrl, sims[1].Secret))
        {
            XmlAssert.Success(await direct.CreateAsync("later", ("voiceBridge", "715000001")));
        }

        await source.AddMeetingAsync("later", "bbb-2", "715000001");
        XmlAssert.Success(await target.Pool.Client.CallAsync("updateRecordings", ("recordID", recordings[1].RecordId), ("meta_course", "changed here")));
        XmlAssert.Success(await target.Pool.Client.CallAsync("publishRecordings", ("recordID", recordings[2].RecordId), ("publish", "false")));

        var run = await target.MigrateAsync(source);
        Assert.True(run.Exit == 0, run.Out + run.Err);
        Assert.Contains("servers: 1 added, 1 updated, 0 unchanged", run.Out, StringComparison.Ordinal);
        Assert.Contains("meetings: 1 added", run.Out, StringComparison.Ordinal);
        Assert.Contains("recordings: 1 added, 1 updated, 0 unchanged, 1 changed here (kept), 1 conflicts (ours kept)", run.Out, StringComparison.Ordinal);
        Assert.Contains($"! recording {recordings[1].RecordId}: changed here and in Scalelite since the last run; ours kept", run.Out, StringComparison.Ordinal);

        var answer = await GetRecordingsAsync(target);
        Assert.Equal(4, answer.Count);
        Assert.Equal("changed in Scalelite", answer[recordings[0].RecordId].Element("metadata")!.Element("course")!.Value);
        Assert.Equal("changed here", answer[recordings[1].RecordId].Element("metadata")!.Element("course")!.Value);
        Assert.Equal("false", answer[recordings[2].RecordId].Element("published")!.Value);
        Assert.True(answer.ContainsKey(recordings[3].RecordId));
        using var join = await target.Pool.Client.JoinAsync("later");
        Assert.StartsWith(sims[1].ApiUrl + "/join?", join.Headers.Location!.ToString(), StringComparison.Ordinal);
        var (_, tag) = await AdminServerAsync(target, "bbb-1");
        Assert.Equal("fresh", tag);

        // The conflict is reported again, and nothing changes.
        var again = await target.MigrateAsync(source);
        Assert.Contains("Done: nothing needed to change.", again.Out, StringComparison.Ordinal);
        Assert.Contains("1 conflicts (ours kept)", again.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromScalelite_TargetIsScalelitesOwnDatabase_IsRefusedAndNothingIsWritten()
    {
        await using var target = await Target.StartAsync(infrastructure, simulators: 1);
        await using var source = await ScaleliteDeployment.CreateAsync(infrastructure);
        await source.AddRecordingsAsync(GenerateRecordings(3));
        var untouched = await source.SnapshotAsync();
        target.Environment["ConnectionStrings__scalelite"] = source.Database;

        var run = await target.MigrateAsync(source, "--dry-run");
        Assert.Equal(CliApp.Failed, run.Exit);
        Assert.Contains("Scalelite's own", run.Err, StringComparison.Ordinal);

        run = await target.MigrateAsync(source);
        Assert.Equal(CliApp.Failed, run.Exit);
        Assert.Equal(untouched, await source.SnapshotAsync());
    }

    [Fact]
    public async Task FromScalelite_DryRunOnADatabaseNotSetUp_PlansEverythingAndCreatesNothing()
    {
        await using var target = await Target.StartAsync(infrastructure, simulators: 1);
        await using var source = await ScaleliteDeployment.CreateAsync(infrastructure);
        await source.AddServerAsync(new ScaleliteServerRow("bbb-1", "https://bbb1.example.com/bigbluebutton/api", "s", null, "enabled", null, true));
        await source.AddRecordingsAsync(GenerateRecordings(5));
        var fresh = await infrastructure.CreateDatabaseAsync("fresh_target");
        target.Environment["ConnectionStrings__scalelite"] = fresh;

        var run = await target.MigrateAsync(source, "--dry-run", "--no-file-check");
        Assert.True(run.Exit == 0, run.Out + run.Err);
        Assert.Contains("not set up yet", run.Out, StringComparison.Ordinal);
        Assert.Contains("servers: 1 added", run.Out, StringComparison.Ordinal);
        Assert.Contains("recordings: 5 added", run.Out, StringComparison.Ordinal);
        Assert.Equal(["0"], await QueryAsync(fresh, "SELECT count(*)::text FROM information_schema.tables WHERE table_schema = 'public'"));

        // REDIS_NAMESPACE names Scalelite's key prefix: another one finds no servers.
        target.Environment["REDIS_NAMESPACE"] = "elsewhere";
        run = await target.MigrateAsync(source, "--dry-run", "--no-file-check");
        Assert.Contains("servers: 0 added", run.Out, StringComparison.Ordinal);
    }

    /// <summary>Every migrated recording, through getRecordings, field by field as its Scalelite row says.</summary>
    private static async Task AssertRecordingsAnswerAsTheirRowsAsync(Target target, IReadOnlyList<ScaleliteRecordingRow> rows)
    {
        var answer = await GetRecordingsAsync(target);
        Assert.Equal(rows.Select(r => r.RecordId).Order(StringComparer.Ordinal), answer.Keys.Order(StringComparer.Ordinal));
        foreach (var row in rows)
        {
            var r = answer[row.RecordId];
            var because = row.RecordId;
            Assert.True(row.MeetingId == r.Element("meetingID")!.Value, because);
            Assert.True(row.RecordId == r.Element("internalMeetingID")!.Value, because);
            Assert.True((row.Name ?? string.Empty) == r.Element("name")!.Value, because);
            Assert.True((row.Published ? "true" : "false") == r.Element("published")!.Value, because);
            Assert.True((row.State ?? string.Empty) == r.Element("state")!.Value, because);
            Assert.True(Millis(row.Start) == r.Element("startTime")!.Value, because);
            Assert.True(Millis(row.End) == r.Element("endTime")!.Value, because);
            Assert.True((row.Participants ?? 0).ToString(CultureInfo.InvariantCulture) == r.Element("participants")!.Value, because);
            Assert.Equal(row.Metadata.Select(m => (m.Key, m.Value ?? string.Empty)), r.Element("metadata")!.Elements().Select(e => (e.Name.LocalName, e.Value)));

            var formats = r.Element("playback")!.Elements("format").ToDictionary(f => f.Element("type")!.Value);
            Assert.Equal(row.Formats.Select(f => f.Format).Order(StringComparer.Ordinal), formats.Keys.Order(StringComparer.Ordinal));
            foreach (var f in row.Formats)
            {
                var format = formats[f.Format];
                var url = format.Element("url")!.Value;
                if (row.Protected)
                {
                    Assert.StartsWith($"{target.Origin}/recording/{row.RecordId}/{f.Format}?token=", url, StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(target.Origin + f.Url, url);
                }

                Assert.True((f.Length ?? 0).ToString(CultureInfo.InvariantCulture) == format.Element("length")!.Value, because);
                Assert.True((f.ProcessingTime ?? 0).ToString(CultureInfo.InvariantCulture) == format.Element("processingTime")!.Value, because);
                var images = format.Element("preview")?.Element("images")?.Elements("image").ToList() ?? [];
                Assert.Equal(
                    f.Thumbnails.OrderBy(t => t.Sequence).Select(t => (target.Origin + t.Url, t.Alt ?? string.Empty, t.Width?.ToString(CultureInfo.InvariantCulture), t.Height?.ToString(CultureInfo.InvariantCulture))),
                    images.Select(i => (i.Value, i.Attribute("alt")!.Value, i.Attribute("width")?.Value, i.Attribute("height")?.Value)));
            }
        }
    }

    private static async Task<Dictionary<string, XElement>> GetRecordingsAsync(Target target)
    {
        var response = await target.Pool.Client.CallAsync("getRecordings", ("state", "any"));
        XmlAssert.Success(response);
        return response.Element("recordings")!.Elements("recording").ToDictionary(r => r.Element("recordID")!.Value, StringComparer.Ordinal);
    }

    /// <summary>Each server through Scalelite's admin API, as its Redis row says.</summary>
    private static async Task AssertServersAsync(Target target, IReadOnlyList<ScaleliteServerRow> servers)
    {
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "getServers", string.Empty, PoolHarness.Secret);
        var json = await target.Pool.Client.Http.GetStringAsync($"{target.Origin}/scalelite/api/getServers?checksum={checksum}");
        var listed = JsonDocument.Parse(json).RootElement.EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
        Assert.Equal(servers.Select(s => s.Id).Order(StringComparer.Ordinal), listed.Keys.Order(StringComparer.Ordinal));
        foreach (var server in servers)
        {
            var s = listed[server.Id];
            Assert.Equal(server.Url.TrimEnd('/'), s.GetProperty("url").GetString());
            Assert.Equal(server.Secret, s.GetProperty("secret").GetString());
            Assert.Equal(server.Tag, s.GetProperty("tag").GetString());
            Assert.Equal(server.State ?? (server.LegacyEnabled ? "enabled" : "disabled"), s.GetProperty("state").GetString());
            Assert.Equal(double.Parse(server.LoadMultiplier ?? "1.0", CultureInfo.InvariantCulture), s.GetProperty("load_multiplier").GetDouble());
            Assert.Equal(server.Online ? "online" : "offline", s.GetProperty("online").GetString());
        }
    }

    private static async Task<(string State, string? Tag)> AdminServerAsync(Target target, string id)
    {
        var query = "id=" + id;
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, "getServerInfo", query, PoolHarness.Secret);
        var json = JsonDocument.Parse(await target.Pool.Client.Http.GetStringAsync($"{target.Origin}/scalelite/api/getServerInfo?{query}&checksum={checksum}")).RootElement;
        return (json.GetProperty("state").GetString()!, json.GetProperty("tag").GetString());
    }

    private static async Task<string> DialInAsync(Target target, string pin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Origin + "/fsapi")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["section"] = "dialplan",
                ["Caller-Destination-Number"] = "5551234",
                ["variable_pin"] = pin,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("fsapi:" + PoolHarness.Secret)));
        using var response = await target.Pool.Client.Http.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<List<string>> QueryAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static string Millis(DateTime? time) =>
        (time is { } t ? new DateTimeOffset(t, TimeSpan.Zero).ToUnixTimeMilliseconds() : 0).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Recordings as years of a Scalelite deployment leave them: every state (deleted ones without details, some with
    /// none at all), protected and LMS-published rows, missing participants and times, empty and null metadata values,
    /// one to three formats, thumbnails with and without sizes.
    /// </summary>
    private static List<ScaleliteRecordingRow> GenerateRecordings(int count, int firstId = 1)
    {
        var start = new DateTime(2021, 3, 1, 8, 0, 0, DateTimeKind.Utc);
        var rows = new List<ScaleliteRecordingRow>();
        for (var id = firstId; id < firstId + count; id++)
        {
            var i = id - firstId;
            var begin = start.AddMinutes(id * 97.5);
            var recordId = $"{Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"meeting-{id}")))}-{new DateTimeOffset(begin).ToUnixTimeMilliseconds()}";
            var state = (i % 20) switch { 0 => "deleted", 1 => "processing", 2 => null, _ => i % 4 == 3 ? "unpublished" : "published" };
            var published = state == "published" || (state is null && i % 3 == 0);
            var metadata = new List<(string Key, string? Value)>();
            var formats = new List<ScaleliteFormatRow>();
            if (state != "deleted")
            {
                metadata.Add(("bbb-origin", "Moodle"));
                metadata.Add(("course", $"course-{i % 13}"));
                if (i % 5 == 0)
                {
                    metadata.Add(("bbb-recording-tags", null));
                }

                if (i % 6 == 0)
                {
                    metadata.Add(("gl-listed", string.Empty));
                }

                formats.Add(new ScaleliteFormatRow("presentation", $"/playback/presentation/2.3/{recordId}", i % 120, i % 3 == 0 ? null : i * 10,
                    [.. Enumerable.Range(1, 1 + (i % 3)).Select(k => new ScaleliteThumbnailRow(
                        k == 2 ? null : 176, k == 2 ? null : 136, k == 3 ? null : $"Slide {k} <&>",
                        $"/presentation/{recordId}/presentation/d2d9a672/thumbnails/thumb-{k}.png", k - 1))]));
                if (i % 2 == 0)
                {
                    formats.Add(new ScaleliteFormatRow("video", $"/playback/video/{recordId}/", i % 120, null, []));
                }

                if (i % 5 == 0)
                {
                    formats.Add(new ScaleliteFormatRow("podcast", $"/podcast/{recordId}/audio.ogg", i % 60, 500, []));
                }
            }

            rows.Add(new ScaleliteRecordingRow(
                id,
                recordId,
                $"course-{i % 97}",
                i % 17 == 0 ? null : $"Lecture {i} <&> \"quoted\"",
                published && state != "deleted",
                i % 7 == 0 ? null : i % 50,
                state,
                i % 31 == 0 ? null : begin,
                i % 31 == 0 ? null : begin.AddMinutes(i % 90),
                state == "deleted" ? begin.AddDays(1) : null,
                i % 9 == 0,
                i % 11 == 0,
                metadata,
                formats));
        }

        return rows;
    }
}
