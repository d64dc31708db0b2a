using Scalelite.Cli;
using Scalelite.Core.Persistence;
using Scalelite.Core.Pool;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Cli;

/// <summary>Runs the CLI in-process and captures exactly what an operator would see.</summary>
internal static class CliRunner
{
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await new CliApp(output, error, _ => null).InvokeAsync(args);
        return (exit, output.ToString(), error.ToString());
    }
}

/// <summary>Wrong arguments: a clear message and a non-zero exit code, without touching any server.</summary>
public sealed class CliArgumentTests
{
    [Fact]
    public async Task Run_UnknownCommand_FailsWithMessage()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "frobnicate");
        Assert.NotEqual(0, exit);
        Assert.Contains("frobnicate", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DrainWithoutId_FailsWithMessage()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "drain", "--url", "http://127.0.0.1:1", "--secret", "s");
        Assert.NotEqual(0, exit);
        Assert.Contains("Required argument 'id' missing", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoUrl_FailsWithUsageExitCode()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "status", "--secret", "s");
        Assert.Equal(CliApp.Usage, exit);
        Assert.Contains("SCALELITE_URL", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BadUrl_FailsWithUsageExitCode()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "list", "--url", "ftp://x", "--secret", "s");
        Assert.Equal(CliApp.Usage, exit);
        Assert.Contains("http(s)", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoSecret_FailsWithUsageExitCode()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "list", "--url", "http://127.0.0.1:1");
        Assert.Equal(CliApp.Usage, exit);
        Assert.Contains("LOADBALANCER_SECRET", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_BadSyncMode_FailsWithMessage()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "sync", "x.yml", "--mode", "nuke", "--url", "http://127.0.0.1:1", "--secret", "s");
        Assert.NotEqual(0, exit);
        Assert.Contains("nuke", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NegativeDrainTimeout_FailsWithMessage()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "drain", "id", "--wait", "--timeout", "-5", "--url", "http://127.0.0.1:1", "--secret", "s");
        Assert.NotEqual(0, exit);
        Assert.Contains("--timeout", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SyncFileWithoutServersMap_FailsWithUsageExitCode()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "hosts:\n  a: 1\n");
            var (exit, _, err) = await CliRunner.RunAsync("servers", "sync", file, "--url", "http://127.0.0.1:1", "--secret", "s");
            Assert.Equal(CliApp.Usage, exit);
            Assert.Contains("servers:", err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Run_UnreachableApi_FailsWithMessage()
    {
        var (exit, _, err) = await CliRunner.RunAsync("servers", "list", "--url", "http://127.0.0.1:1", "--secret", "s");
        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains("Cannot reach", err, StringComparison.Ordinal);
    }
}

/// <summary>The sync planner's three modes (pure).</summary>
public sealed class ServerSyncPlanTests
{
    private const string Yaml = """
        servers:
          a:
            url: https://a.example.com/bigbluebutton/api
            secret: sa
            enabled: true
            load_multiplier: 2.0
          new.example.com:
            secret: sn
            state: enabled
            tag: big
            capacity: 300
          c:
            url: https://c.example.com/bigbluebutton/api
            secret: sc
            enabled: false
        """;

    private static ServerView View(string id, string url, string state, string secret = "s", double multiplier = 1) =>
        new(id, url, secret, null, state, true, 0, 0, 0, 0, 0, multiplier, null, "3.0", null, null);

    private static readonly ServerView[] Current =
    [
        View("a", "https://a.example.com/bigbluebutton/api", "enabled", "sa"),
        View("c", "https://c.example.com/bigbluebutton/api", "enabled", "sc"),
        View("gone", "https://gone.example.com/bigbluebutton/api", "enabled"),
    ];

    [Fact]
    public void Parse_ScaleliteFormat_ReadsEveryField()
    {
        var desired = ServerSync.Parse(Yaml);
        Assert.Equal(3, desired.Count);
        var added = desired[1];
        Assert.Equal("https://new.example.com/bigbluebutton/api", added.Url);
        Assert.Equal("enabled", added.State);
        Assert.Equal("big", added.Tag);
        Assert.Equal(300, added.Capacity);
        Assert.Equal("disabled", desired[2].State);
        Assert.Equal(2.0, desired[0].LoadMultiplier);
    }

    [Fact]
    public void Plan_Keep_LeavesUnlistedServersAlone_AndDrainsInsteadOfDisabling()
    {
        var plan = ServerSync.Plan(ServerSync.Parse(Yaml), Current, SyncMode.Keep);

        Assert.DoesNotContain(plan, s => s.ServerId == "gone");
        Assert.Contains(plan, s => s.Kind == "update" && s.ServerId == "a" && s.Description.Contains("load_multiplier", StringComparison.Ordinal));
        Assert.Contains(plan, s => s.Kind == "add" && s.Desired!.Url == "https://new.example.com/bigbluebutton/api");
        Assert.Equal("cordoned", Assert.Single(plan, s => s.Kind == "state" && s.ServerId == "c").State);
    }

    [Fact]
    public void Plan_Cordon_RemovesEmptyUnlistedServersAndCordonsBusyOnesAsScalelite()
    {
        var busy = View("busy", "https://busy.example.com/bigbluebutton/api", "enabled") with { Meetings = 2 };
        var plan = ServerSync.Plan(ServerSync.Parse(Yaml), [.. Current, busy], SyncMode.Cordon);

        Assert.Equal("remove", Assert.Single(plan, s => s.ServerId == "gone").Kind);
        Assert.Equal("cordoned", Assert.Single(plan, s => s.ServerId == "busy").State);
        Assert.Equal("cordoned", Assert.Single(plan, s => s.Kind == "state" && s.ServerId == "c").State);
    }

    [Fact]
    public void Parse_HostnameKeyAlone_IsAnEnabledServerAtThatHostAsScaleliteServersSync()
    {
        var desired = Assert.Single(ServerSync.Parse("servers:\n  bbb1.example.com:\n    secret: s1\n"));

        Assert.Equal("bbb1.example.com", desired.Key);
        Assert.Equal("https://bbb1.example.com/bigbluebutton/api", desired.Url);
        Assert.Equal("enabled", desired.State);
    }

    [Fact]
    public void Export_Servers_PrintsScaleliteServersYamlThatSyncReadsBack()
    {
        var servers = new[] { View("bbb1", "https://bbb1.example.com/bigbluebutton/api", "enabled", "s1", 2.5), View("bbb2", "https://bbb2.example.com/bigbluebutton/api", "cordoned", "s2") with { Tag = "gpu" } };

        var yaml = ServerSync.Export(servers, verbose: true);

        Assert.StartsWith("---", yaml, StringComparison.Ordinal);
        var back = ServerSync.Parse(yaml);
        Assert.Equal(["bbb1", "bbb2"], back.Select(d => d.Key));
        Assert.Equal(2.5, back[0].LoadMultiplier);
        Assert.Equal("s2", back[1].Secret);
        Assert.Equal("gpu", back[1].Tag);
        // servers:yaml writes only `enabled`, so a cordoned server reads back as disabled, as Scalelite's does; an
        // enabled one makes the round trip unchanged.
        Assert.Empty(ServerSync.Plan(ServerSync.Parse(ServerSync.Export([servers[0]], verbose: false)), [servers[0]], SyncMode.Keep));
        Assert.Equal("disabled", Assert.Single(ServerSync.Plan(ServerSync.Parse(ServerSync.Export(servers, verbose: false)), servers, SyncMode.Keep)).State);
    }

    [Fact]
    public void ParseList_AddAllFile_ReadsUrlAndSecretAsScaleliteServersAddAll()
    {
        var list = ServerSync.ParseList("servers:\n  - url: https://a.example.com/bigbluebutton/api\n    secret: sa\n  - url: https://b.example.com/bigbluebutton/api\n    secret: sb\n");

        Assert.Equal([("https://a.example.com/bigbluebutton/api", "sa"), ("https://b.example.com/bigbluebutton/api", "sb")], list);
        Assert.Throws<FormatException>(() => ServerSync.ParseList("servers:\n  a:\n    url: x\n"));
    }

    [Theory]
    [InlineData("servers: [unclosed\n")]
    [InlineData("other:\n  a: 1\n")]
    [InlineData("- a\n- b\n")]
    [InlineData("")]
    public void ParseAndParseList_NotYamlOrNoServersKey_ThrowFormatException(string yaml)
    {
        Assert.Throws<FormatException>(() => ServerSync.Parse(yaml));
        Assert.Throws<FormatException>(() => ServerSync.ParseList(yaml));
    }

    [Fact]
    public void Plan_Force_RemovesUnlistedServers_AndDisablesAtOnce()
    {
        var plan = ServerSync.Plan(ServerSync.Parse(Yaml), Current, SyncMode.Force);

        Assert.Equal("remove", Assert.Single(plan, s => s.ServerId == "gone").Kind);
        Assert.Equal("disabled", Assert.Single(plan, s => s.Kind == "state" && s.ServerId == "c").State);
    }

    [Fact]
    public void Plan_ChangedUrlOfAKnownId_IsAConflictUnlessForced()
    {
        var desired = ServerSync.Parse("servers:\n  a:\n    url: https://moved.example.com\n    secret: sa\n");
        Assert.Equal("conflict", Assert.Single(ServerSync.Plan(desired, Current, SyncMode.Keep)).Kind);
        var forced = ServerSync.Plan(desired, Current, SyncMode.Force);
        Assert.Contains(forced, s => s.Kind == "remove" && s.ServerId == "a");
        Assert.Contains(forced, s => s.Kind == "add");
    }

    [Fact]
    public void Parse_UnknownEntryKey_FailsNamingTheServerAndTheKeyAsScaleliteServersSync()
    {
        var e = Assert.Throws<FormatException>(() => ServerSync.Parse("servers:\n  bbb1:\n    secret: s1\n    weight: 3\n"));

        Assert.StartsWith("Server id=bbb1 has bad parameters: weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ServersYamlVerboseKeys_AreAcceptedAndIgnoredAsScaleliteServersSync()
    {
        var desired = Assert.Single(ServerSync.Parse("servers:\n  bbb1:\n    secret: s1\n    load: 12.5\n    bbb_version: 3.0.4\n    online: true\n    state: cordoned\n"));

        Assert.Equal("bbb1", desired.Key);
        Assert.Equal("cordoned", desired.State);
    }

    [Theory]
    [InlineData("https://bbb1.example.com")]
    [InlineData("bbb 1")]
    [InlineData("bbb1/api")]
    public void Parse_KeyOutsideTheIdRule_FailsAsScaleliteServersSync(string key)
    {
        var e = Assert.Throws<FormatException>(() => ServerSync.Parse($"servers:\n  \"{key}\":\n    url: https://bbb1.example.com/bigbluebutton/api\n    secret: s1\n"));

        Assert.Contains($"Server id={key} contains invalid characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NewEntryWithoutSecret_IsInvalidAsScaleliteServersSync()
    {
        var desired = ServerSync.Parse("servers:\n  bbb1:\n    url: https://bbb1.example.com/bigbluebutton/api\n  gone:\n    url: https://gone.example.com/bigbluebutton/api\n    enabled: false\n");

        var step = Assert.Single(ServerSync.Plan(desired, [], SyncMode.Keep));
        Assert.Equal("invalid", step.Kind);
        Assert.StartsWith("Server id=bbb1 has no secret", step.Description, StringComparison.Ordinal);
        // A known server keeps its secret when the entry leaves it out.
        Assert.Empty(ServerSync.Plan(ServerSync.Parse("servers:\n  a:\n    url: https://a.example.com/bigbluebutton/api\n"), [Current[0]], SyncMode.Keep));
        Assert.Equal("Server id=a has no secret", Assert.Throws<FormatException>(() => ServerSync.Parse("servers:\n  a:\n    secret: ''\n")).Message);
    }

    [Fact]
    public void Parse_SeveralBadEntries_ReportsEveryOneBeforeAnyChangeAsScaleliteServersSync()
    {
        var e = Assert.Throws<FormatException>(() => ServerSync.Parse("""
            servers:
              good:
                secret: s
              bad1:
                secret: s
                load_multiplier: 0
              bad2:
                secret: s
                url: ftp://bbb2.example.com/
              bad3:
                secret: s
                enabled: maybe
            """));

        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal(["Server id=bad1 has invalid load_multiplier=0", "Server id=bad2 has invalid url=ftp://bbb2.example.com/"], lines[..2]);
        Assert.StartsWith("Server id=bad3 has invalid enabled=maybe", lines[2], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public void Plan_ServerTheFileAdds_CarriesTheFileKeyAsItsIdAsScaleliteServersSync()
    {
        var add = Assert.Single(ServerSync.Plan(ServerSync.Parse("servers:\n  bbb-new.example.com:\n    secret: s\n"), [], SyncMode.Keep));

        Assert.Equal("add", add.Kind);
        Assert.Equal("bbb-new.example.com", add.Desired!.Key);
        Assert.StartsWith("add bbb-new.example.com (https://bbb-new.example.com/bigbluebutton/api", add.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bbb1.example.com", true)]
    [InlineData("Node_7-a", true)]
    [InlineData("", false)]
    [InlineData("bbb1:443", false)]
    [InlineData("bbb/1", false)]
    [InlineData("é", false)]
    public void IsValidId_ScaleliteServerIdRule_AcceptsOnlyLettersDigitsUnderscoreDotAndDash(string id, bool valid) =>
        Assert.Equal(valid, Server.IsValidId(id));

    [Fact]
    public void IsValidId_LongerThanTheColumn_IsRefused() => Assert.False(Server.IsValidId(new string('a', Server.MaxIdLength + 1)));

    [Fact]
    public void Plan_FileMatchesPool_IsEmpty()
    {
        var desired = ServerSync.Parse("servers:\n  a:\n    url: https://a.example.com/bigbluebutton/api\n    secret: sa\n    enabled: true\n");
        Assert.Empty(ServerSync.Plan(desired, [Current[0]], SyncMode.Cordon));
    }
}

/// <summary>The CLI against a running pool: status, drain with wait, sync in each mode.</summary>
public sealed class CliPoolTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Status_ShowsTheRakeStatusColumns()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        var (exit, output, err) = await CliRunner.RunAsync("servers", "status", "--url", Root(pool), "--secret", PoolHarness.Secret);

        Assert.True(exit == 0, err);
        foreach (var column in new[] { "HOSTNAME", "STATE", "STATUS", "MEETINGS", "USERS", "LARGEST MEETING", "VIDEOS", "LOAD", "CAPACITY", "BBB VERSION", "TAG" })
        {
            Assert.Contains(column, output, StringComparison.Ordinal);
        }

        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("enabled", StringComparison.Ordinal) && l.Contains("online", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Enable_UnhealthyServer_ExitsNonZeroWithTheReason()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var (exit, output, _) = await CliRunner.RunAsync("servers", "add", "http://127.0.0.1:1/bigbluebutton/api", "--server-secret", "x", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.Equal(0, exit);
        var id = output.Split(' ')[1];

        var (enableExit, _, err) = await CliRunner.RunAsync("servers", "enable", id, "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.Equal(CliApp.Failed, enableExit);
        Assert.Contains("409", err, StringComparison.Ordinal);
        Assert.Contains("cannot be enabled", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_KeepThenCordonThenForce_BehaveAsDocumented()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 3);
        var admin = pool.ApiService<ServerAdministration>();
        var (a, b, c) = (pool.ServerIds[0], pool.ServerIds[1], pool.ServerIds[2]);
        var sa = pool.Simulators.Servers[0];
        var sb = pool.Simulators.Servers[1];
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $"""
                servers:
                  {a}:
                    url: {sa.ApiUrl}
                    secret: {sa.Secret}
                    enabled: true
                    load_multiplier: 2.5
                  {b}:
                    url: {sb.ApiUrl}
                    secret: {sb.Secret}
                    enabled: true
                    capacity: 250
                """);
            string[] Args(string mode, bool dry = false) =>
                [.. new[] { "servers", "sync", file, "--mode", mode, "--url", Root(pool), "--secret", PoolHarness.Secret }, .. dry ? new[] { "--dry-run" } : []];

            var (dryExit, dryOut, _) = await CliRunner.RunAsync(Args("force", dry: true));
            Assert.Equal(0, dryExit);
            Assert.Contains($"would remove {c}", dryOut, StringComparison.Ordinal);
            Assert.NotNull(await admin.FindAsync(c, default));

            var (keepExit, _, keepErr) = await CliRunner.RunAsync(Args("keep"));
            Assert.True(keepExit == 0, keepErr);
            Assert.Equal(2.5, (await admin.FindAsync(a, default))!.LoadMultiplier);
            Assert.Equal(250, (await admin.FindAsync(b, default))!.Capacity);
            Assert.Equal(ServerState.Enabled, (await admin.FindAsync(c, default))!.State);

            var (cordonExit, _, cordonErr) = await CliRunner.RunAsync(Args("cordon"));
            Assert.True(cordonExit == 0, cordonErr);
            // As Scalelite's cordon mode: a server the file lacks is removed once it has no meetings (c has none).
            Assert.Null(await admin.FindAsync(c, default));
            Assert.Equal(ServerState.Enabled, (await admin.FindAsync(a, default))!.State);

            var (forceExit, _, forceErr) = await CliRunner.RunAsync(Args("force"));
            Assert.True(forceExit == 0, forceErr);
            Assert.Null(await admin.FindAsync(c, default));
            Assert.Equal(2, (await admin.ListAsync(default)).Count);

            var (againExit, againOut, _) = await CliRunner.RunAsync(Args("force"));
            Assert.Equal(0, againExit);
            Assert.Contains("In sync", againOut, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Sync_ServerTheFileAdds_GetsTheFileKeyAsItsIdThroughTheOperatorApiAsScaleliteServersSync()
    {
        // SERVER_ID_IS_HOSTNAME on: Scalelite's sync adopts the key whatever the setting.
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, new Dictionary<string, string?> { ["Scalelite:ServerIdIsHostname"] = "true" });
        var admin = pool.ApiService<ServerAdministration>();
        var existing = pool.ServerIds[0];
        var sim = pool.Simulators.Servers[0];
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $"""
                servers:
                  {existing}:
                    url: {sim.ApiUrl}
                    secret: {sim.Secret}
                  node-7.pool:
                    url: http://127.0.0.1:1/bigbluebutton/api
                    secret: s7
                    enabled: false
                    load_multiplier: 2.0
                    tag: gpu
                """);
            string[] Args(params string[] extra) => ["servers", "sync", file, "--mode", "keep", "--url", Root(pool), "--secret", PoolHarness.Secret, .. extra];

            var (exit, output, err) = await CliRunner.RunAsync(Args());

            Assert.True(exit == 0, err + output);
            var added = await admin.FindAsync("node-7.pool", default);
            Assert.NotNull(added);
            Assert.Equal("http://127.0.0.1:1/bigbluebutton/api", added.Url);
            Assert.Equal(ServerState.Disabled, added.State);
            Assert.Equal(2.0, added.LoadMultiplier);
            Assert.Equal("gpu", added.Tag);
            Assert.Equal(2, (await admin.ListAsync(default)).Count);

            var (againExit, againOut, _) = await CliRunner.RunAsync(Args());
            Assert.Equal(0, againExit);
            Assert.Contains("In sync", againOut, StringComparison.Ordinal);

            // A file with an error changes nothing, whatever else it says.
            await File.WriteAllTextAsync(file, $"""
                servers:
                  node-8:
                    url: http://127.0.0.1:2/bigbluebutton/api
                    secret: s8
                  node-9:
                    secret: s9
                    weight: 3
                """);
            var (badExit, _, badErr) = await CliRunner.RunAsync(Args());
            Assert.Equal(CliApp.Usage, badExit);
            Assert.Contains("Server id=node-9 has bad parameters: weight", badErr, StringComparison.Ordinal);
            Assert.Null(await admin.FindAsync("node-8", default));
            Assert.NotNull(await admin.FindAsync(existing, default));

            // So does one that adds a server without its secret.
            await File.WriteAllTextAsync(file, "servers:\n  node-8:\n    url: http://127.0.0.1:2/bigbluebutton/api\n    secret: s8\n  node-10:\n    url: http://127.0.0.1:3/bigbluebutton/api\n");
            var (noSecretExit, _, noSecretErr) = await CliRunner.RunAsync(Args());
            Assert.Equal(CliApp.Usage, noSecretExit);
            Assert.Contains("Server id=node-10 has no secret", noSecretErr, StringComparison.Ordinal);
            Assert.Null(await admin.FindAsync("node-8", default));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AddAll_ListFile_AddsEachDisabledAndPrintsServerAndIdAsScaleliteServersAddAll()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var admin = pool.ApiService<ServerAdministration>();
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "servers:\n  - url: http://127.0.0.1:1/bigbluebutton/api\n    secret: s1\n  - url: http://127.0.0.1:2/bigbluebutton/api\n    secret: s2\n");

            var (exit, output, err) = await CliRunner.RunAsync("servers", "add-all", file, "--url", Root(pool), "--secret", PoolHarness.Secret);

            Assert.True(exit == 0, err);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
            Assert.Equal(4, lines.Count);
            Assert.Equal("server: http://127.0.0.1:1/bigbluebutton/api", lines[0]);
            Assert.Equal("server: http://127.0.0.1:2/bigbluebutton/api", lines[2]);
            foreach (var idLine in new[] { lines[1], lines[3] })
            {
                Assert.StartsWith("id: ", idLine, StringComparison.Ordinal);
                Assert.Equal(ServerState.Disabled, (await admin.FindAsync(idLine["id: ".Length..], default))!.State);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AddServer_WithId_UsesIt_AndATakenOrInvalidIdIsRefusedClearly()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1, new Dictionary<string, string?> { ["Scalelite:ServerIdIsHostname"] = "true" });
        string[] Args(string url, string id) => ["servers", "add", url, "--server-secret", "x", "--id", id, "--url", Root(pool), "--secret", PoolHarness.Secret];

        var (exit, output, err) = await CliRunner.RunAsync(Args("http://127.0.0.1:1/bigbluebutton/api", "edge-1"));
        Assert.True(exit == 0, err);
        Assert.StartsWith("Added edge-1 ", output, StringComparison.Ordinal);

        var (takenExit, _, takenErr) = await CliRunner.RunAsync(Args("http://127.0.0.1:2/bigbluebutton/api", "edge-1"));
        Assert.Equal(CliApp.Failed, takenExit);
        Assert.Contains("409", takenErr, StringComparison.Ordinal);
        Assert.Contains("Server already exists with id 'edge-1'", takenErr, StringComparison.Ordinal);

        var (badExit, _, badErr) = await CliRunner.RunAsync(Args("http://127.0.0.1:3/bigbluebutton/api", "edge/2"));
        Assert.Equal(CliApp.Failed, badExit);
        Assert.Contains("400", badErr, StringComparison.Ordinal);
        Assert.Contains("Server id=edge/2 contains invalid characters", badErr, StringComparison.Ordinal);

        // Without an id, SERVER_ID_IS_HOSTNAME still names it after its host.
        var (hostExit, hostOut, hostErr) = await CliRunner.RunAsync("servers", "add", "http://Edge-Host.invalid/bigbluebutton/api", "--server-secret", "x", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.True(hostExit == 0, hostErr);
        Assert.StartsWith("Added edge-host.invalid ", hostOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MeetingsShow_ScaleliteInfo_PrintsTheOwnersGetMeetingInfoAsScaleliteMeetingsInfo()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);
        XmlAssert.Success(await pool.Client.CreateAsync("info-class", ("record", "true"),
            ("meta_bbb-context-name", "Maths 101"), ("meta_bbb-origin", "Moodle"), ("meta_bbb-origin-tag", "moodle-mod_bigbluebuttonbn (2024)")));
        var owner = pool.Simulators.Servers.Single(s => s.GetMeetings().Any(m => m.MeetingId == "info-class"));
        var ownerId = pool.ServerIdOf(owner);

        var (exit, output, err) = await CliRunner.RunAsync("meetings", "show", "info-class", "--scalelite-info", "--url", Root(pool), "--secret", PoolHarness.Secret);

        Assert.True(exit == 0, err);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("", lines[0]);
        Assert.Equal("Meeting ID: info-class", lines[1]);
        Assert.Equal("\tMeeting Name: info-class", lines[2]);
        Assert.Matches("^\tInternal MeetingID: .+", lines[3]);
        Assert.Matches("^\tCreated Date: .+", lines[4]);
        Assert.Equal("\tRecording Enabled: true", lines[5]);
        Assert.Equal($"\tServer id: {ownerId}", lines[6]);
        Assert.Equal($"\tServer url: {owner.ApiUrl.TrimEnd('/')}", lines[7]);
        Assert.Equal("\tMetaData:", lines[8]);
        Assert.Equal("\t\tbbb-context-name: Maths 101", lines[9]);
        Assert.Equal("\t\tbbb-origin: Moodle", lines[14]);
        Assert.Equal("\t\tbbb-origin-tag: moodle-mod_bigbluebuttonbn (2024)", lines[20]);
        Assert.Equal(20, lines.Count(l => l.Length > 0));

        var (missingExit, missingOut, missingErr) = await CliRunner.RunAsync("meetings", "show", "no-such-class", "--scalelite-info", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.Equal(CliApp.Failed, missingExit);
        Assert.Empty(missingOut);
        Assert.StartsWith("WARNING: Could not get info for meeting id=no-such-class: 404", missingErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drain_WithWait_ReturnsOnceDisabled()
    {
        await using var pool = await PoolHarness.StartAsync(infrastructure, simulators: 1);
        var id = pool.ServerIds[0];
        var (exit, output, err) = await CliRunner.RunAsync("servers", "drain", id, "--wait", "--timeout", "1", "--url", Root(pool), "--secret", PoolHarness.Secret);
        // An empty server is disabled by the next poll, which this test does not run: the wait times out.
        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains("cordoned", output, StringComparison.Ordinal);
        Assert.Contains("Timed out", err, StringComparison.Ordinal);

        await pool.PollAsync();
        (exit, output, err) = await CliRunner.RunAsync("servers", "drain", id, "--wait", "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.True(exit == 0, err);
        Assert.Contains("drained", output, StringComparison.Ordinal);

        var (eventsExit, events, _) = await CliRunner.RunAsync("servers", "events", id, "--url", Root(pool), "--secret", PoolHarness.Secret);
        Assert.Equal(0, eventsExit);
        Assert.Contains("drained", events, StringComparison.Ordinal);
        Assert.Contains("cli:", events, StringComparison.Ordinal);
    }

    private static string Root(PoolHarness pool) => new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority);
}
