using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.Core.Meetings.History;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.RecordingSync;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Cli;

/// <summary>
/// One meeting's whole story, as an operator follows it: <c>scalelite meetings show</c> after the meeting was created,
/// joined, ended and recorded, and a grep of its internalMeetingID through the services' console logs.
/// </summary>
public sealed class MeetingsShowTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    // The meeting events are logged at Information; the harnesses keep everything else at Warning.
    private static readonly Dictionary<string, string?> MeetingLogs = new() { ["Logging:LogLevel:Scalelite.Core.Meetings"] = "Information" };

    [Fact]
    public async Task MeetingsShow_MeetingCreatedJoinedEndedAndRecorded_TellsTheWholeStory_AndOneGrepFindsItInTheLogs()
    {
        var logs = new LogCapture(console: true);
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2, settings: MeetingLogs, logs: logs);
        await using var sync = await RecordingSyncHarness.StartAsync(infrastructure, watch: true, settings: MeetingLogs, database: pool.Database, logs: logs);

        var created = await pool.Client.CreateAsync("story-class", ("record", "true"));
        XmlAssert.Success(created);
        var internalId = created.Element("internalMeetingID")!.Value;
        for (var i = 0; i < 3; i++)
        {
            using var join = await pool.Client.JoinAsync("story-class", $"Student {i}");
            Assert.Equal(HttpStatusCode.Redirect, join.StatusCode);
        }

        // BBB publishes the recording after the meeting: the archive is made while the node still holds the meeting,
        // and reaches the spool once the meeting has ended.
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "story-class"));
        var ownerId = pool.ServerIdOf(owner);
        var staging = Directory.CreateTempSubdirectory("story-").FullName;
        using var made = await pool.Client.Http.PostAsync($"{owner.ControlUrl}/recordings/story-class?spool={Uri.EscapeDataString(staging)}&formats=presentation,video", null);
        Assert.True(made.IsSuccessStatusCode, await made.Content.ReadAsStringAsync());
        var archive = (await made.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("archive").GetString()!;

        XmlAssert.Success(await pool.Client.CallAsync("end", ("meetingID", "story-class")));
        Assert.True(await pool.ApiService<MeetingHistoryWriter>().FlushAsync());
        File.Move(archive, Path.Combine(sync.Spool, Path.GetFileName(archive)));
        var syncWriter = sync.Host.Services.GetRequiredService<MeetingHistoryWriter>();
        await Eventually.TrueAsync(async () =>
        {
            await syncWriter.FlushAsync();
            var story = await pool.ApiService<MeetingHistoryQuery>().FindAsync(string.Empty, "story-class", CancellationToken.None);
            return story?.Runs.SingleOrDefault()?.Recordings.Count == 1;
        }, TimeSpan.FromSeconds(60), "RecordingSync has imported the recording and written it to the history");

        var (exit, output, error) = await CliRunner.RunAsync("meetings", "show", "story-class", "--url", ApiRoot(pool), "--secret", PoolHarness.Secret);

        Assert.True(exit == 0, error);
        var lines = output.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains("Meeting story-class", lines);
        Assert.Contains($"  internalMeetingID {internalId}", lines);
        var ownerHost = new Uri(owner.ApiUrl).Authority;
        Assert.Contains(lines, l => l.StartsWith("    created    ", StringComparison.Ordinal) && l.EndsWith($"on {ownerId} ({ownerHost})", StringComparison.Ordinal));
        var placement = Assert.Single(lines, l => l.StartsWith("    placement  ", StringComparison.Ordinal));
        Assert.Contains($"{ownerId} load 0 (chosen)", placement, StringComparison.Ordinal);
        Assert.All(pool.ServerIds, id => Assert.Contains(id + " load ", placement, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("    joins      3 (first ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("    ended      ", StringComparison.Ordinal) && l.EndsWith(" by api", StringComparison.Ordinal));
        var recording = Assert.Single(lines, l => l.StartsWith("    recording  ", StringComparison.Ordinal));
        Assert.Contains($"{internalId} (presentation, video) imported ", recording, StringComparison.Ordinal);
        Assert.Contains(" after the meeting ended", recording, StringComparison.Ordinal);

        // One grep of the internalMeetingID through what the three services wrote to their consoles.
        var found = logs.ConsoleText.Split('\n').Where(l => l.Contains(internalId, StringComparison.Ordinal)).ToList();
        var create = Assert.Single(found, l => l.Contains("Meeting created", StringComparison.Ordinal));
        var end = Assert.Single(found, l => l.Contains("Meeting ended", StringComparison.Ordinal));
        var import = Assert.Single(found, l => l.Contains($"Recording {internalId} imported", StringComparison.Ordinal));
        Assert.All(new[] { create, end, import }, line =>
        {
            Assert.Contains("meetingID=story-class ", line, StringComparison.Ordinal);
            Assert.Contains($"serverId={ownerId} serverHost={ownerHost} tenant=", line, StringComparison.Ordinal);
        });
        Assert.Contains(logs.Entries, e => e.Service == "recordingsync" && e.Message.Contains(internalId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task MeetingsShow_MeetingWithoutHistory_FailsWithTheReason()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);

        var (exit, _, error) = await CliRunner.RunAsync("meetings", "show", "never-was", "--url", ApiRoot(pool), "--secret", PoolHarness.Secret);

        Assert.Equal(Scalelite.Cli.CliApp.Failed, exit);
        Assert.Contains("404", error, StringComparison.Ordinal);
        Assert.Contains("No history of meeting never-was", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MeetingHistory_OperatorApiWithoutToken_IsRefused()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);

        using var answer = await pool.Client.Http.GetAsync($"{ApiRoot(pool)}/api/v1/meetings/history?meetingId=x");

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
    }

    private static string ApiRoot(PoolHarness pool) => pool.ApiBase.Replace("/bigbluebutton/api", string.Empty, StringComparison.Ordinal);
}
