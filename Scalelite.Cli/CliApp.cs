using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Scalelite.Cli;

/// <summary>The <c>scalelite</c> command line: the command tree, and how each command talks to the API.</summary>
/// <remarks>
/// Exit codes: 0 done; 1 the API refused or failed (the reason is printed); 2 wrong arguments or missing
/// configuration. Output goes to the writers given, so tests read exactly what an operator sees.
/// </remarks>
public sealed class CliApp(TextWriter output, TextWriter error, Func<string, string?>? environment = null, HttpMessageHandler? handler = null)
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;

    private readonly Option<string?> _url = new("--url") { Description = "The Scalelite API's base URL (default: $SCALELITE_URL).", Recursive = true };
    private readonly Option<string?> _secret = new("--secret") { Description = "The admin secret (default: $Scalelite__AdminSecrets, else $LOADBALANCER_SECRET).", Recursive = true };
    private readonly Option<string?> _reason = new("--reason") { Description = "Why: kept in the server's audit trail.", Recursive = true };

    public static Task<int> RunAsync(string[] args) => new CliApp(Console.Out, Console.Error).InvokeAsync(args);

    public async Task<int> InvokeAsync(string[] args, CancellationToken ct = default)
    {
        var root = BuildCommands();
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, ct);
    }

    private RootCommand BuildCommands()
    {
        var root = new RootCommand("Operate a Scalelite for .NET pool of BigBlueButton servers.") { _url, _secret, _reason };
        var servers = new Command("servers", "List, add, change and retire servers.");
        root.Add(servers);

        var list = new Command("list", "Servers with their id, URL, state and health.");
        list.SetAction((p, ct) => WithClient(p, async c => { PrintList(await c.ListServersAsync(ct)); return Ok; }));
        servers.Add(list);

        var status = new Command("status", "The pool as a table, like Scalelite's 'rake status'.");
        status.SetAction((p, ct) => WithClient(p, async c =>
        {
            // The alerts come first, so that an operator looking at the pool sees at once what is wrong with it.
            PrintAlertsHeader(await AlertsOrNullAsync(c, ct));
            PrintStatus(await c.ListServersAsync(ct));
            return Ok;
        }));
        servers.Add(status);

        var urlArg = new Argument<string>("url") { Description = "The server's BBB API URL (a bare host gets /bigbluebutton/api)." };
        var secretOpt = new Option<string>("--server-secret") { Description = "The BBB server's own secret (bbb-conf --secret).", Required = true };
        var multiplierOpt = new Option<double?>("--load-multiplier") { Description = "Load multiplier (bigger servers: smaller)." };
        var tagOpt = new Option<string?>("--tag") { Description = "Tag (empty to clear on update)." };
        var capacityOpt = new Option<int?>("--capacity") { Description = "How many users it can hold." };
        var idOpt = new Option<string?>("--id") { Description = "The server's id (letters, digits, '_', '.', '-'); default: generated, or the host name with SERVER_ID_IS_HOSTNAME." };
        var add = new Command("add", "Add a server; it starts disabled and is probed at once.") { urlArg, secretOpt, multiplierOpt, tagOpt, capacityOpt, idOpt };
        add.SetAction((p, ct) => WithClient(p, async c =>
        {
            var added = await c.AddServerAsync(new
            {
                id = p.GetValue(idOpt),
                url = p.GetValue(urlArg),
                secret = p.GetValue(secretOpt),
                loadMultiplier = p.GetValue(multiplierOpt),
                tag = p.GetValue(tagOpt),
                capacity = p.GetValue(capacityOpt),
                reason = p.GetValue(_reason),
            }, ct);
            output.WriteLine($"Added {added.Server.Id} ({added.Server.Url}), disabled.");
            PrintAdmission(added);
            return Ok;
        }));
        servers.Add(add);

        var idArg = new Argument<string>("id") { Description = "The server id (see 'servers list')." };
        var updateSecret = new Option<string?>("--server-secret") { Description = "The BBB server's new secret." };
        var update = new Command("update", "Change a server's secret, load multiplier, tag or capacity.") { idArg, updateSecret, multiplierOpt, tagOpt, capacityOpt };
        update.SetAction((p, ct) => WithClient(p, async c =>
        {
            var changed = await c.UpdateServerAsync(p.GetValue(idArg)!, new
            {
                secret = p.GetValue(updateSecret),
                loadMultiplier = p.GetValue(multiplierOpt),
                tag = p.GetValue(tagOpt),
                capacity = p.GetValue(capacityOpt),
                reason = p.GetValue(_reason),
            }, ct);
            output.WriteLine($"Updated {changed.Id}.");
            return Ok;
        }));
        servers.Add(update);

        foreach (var (name, action, help) in new[]
        {
            ("enable", "enable", "Let a server take meetings; refused until it is healthy, accepts our secret and reports its version."),
            ("cordon", "cordon", "Stop placing new meetings on a server; running ones continue."),
            ("disable", "disable", "Take a server out at once (joins to its meetings fail)."),
        })
        {
            var command = new Command(name, help) { idArg };
            command.SetAction((p, ct) => WithClient(p, async c =>
            {
                var server = await c.SetStateAsync(p.GetValue(idArg)!, action, p.GetValue(_reason), ct);
                output.WriteLine($"{server.Id} is {server.State}.");
                return Ok;
            }));
            servers.Add(command);
        }

        var waitOpt = new Option<bool>("--wait") { Description = "Wait until the server is disabled (its last meeting ended)." };
        var timeoutOpt = new Option<double>("--timeout") { Description = "Seconds to wait with --wait (default 3600).", DefaultValueFactory = _ => 3600 };
        timeoutOpt.Validators.Add(r => { if (r.GetValueOrDefault<double>() <= 0) { r.AddError("--timeout must be a number of seconds greater than 0."); } });
        var drain = new Command("drain", "Cordon a server and let its meetings end; then it is disabled.") { idArg, waitOpt, timeoutOpt };
        drain.SetAction((p, ct) => WithClient(p, c => DrainAsync(c, p.GetValue(idArg)!, p.GetValue(_reason), p.GetValue(waitOpt), p.GetValue(timeoutOpt), ct)));
        servers.Add(drain);

        var admissionOpt = new Option<bool>("--admission-test") { Description = "Also create and end a test meeting on it." };
        var probe = new Command("probe", "Probe a server now and say whether it may be enabled.") { idArg, admissionOpt };
        probe.SetAction((p, ct) => WithClient(p, async c =>
        {
            var result = await c.ProbeAsync(p.GetValue(idArg)!, p.GetValue(admissionOpt), ct);
            PrintAdmission(result);
            return result.Admitted ? Ok : Failed;
        }));
        servers.Add(probe);

        var keepMeetingsOpt = new Option<bool>("--keep-meetings") { Description = "Only forget the meetings; do not end them on the server." };
        var keepStateOpt = new Option<bool>("--keep-state") { Description = "Do not disable the server." };
        var panic = new Command("panic", "Forget a server's meetings (ending them unless --keep-meetings) and disable it.") { idArg, keepMeetingsOpt, keepStateOpt };
        panic.SetAction((p, ct) => WithClient(p, async c =>
        {
            var result = await c.PanicAsync(p.GetValue(idArg)!, !p.GetValue(keepMeetingsOpt), p.GetValue(keepStateOpt), p.GetValue(_reason), ct);
            output.WriteLine($"{result.Server.Id}: {result.Meetings} meeting(s) forgotten{(result.Ended ? " and ended" : string.Empty)}; it is {result.Server.State}.");
            return Ok;
        }));
        servers.Add(panic);

        var forceOpt = new Option<bool>("--force") { Description = "Remove even while it has meetings (they are ended)." };
        var remove = new Command("remove", "Remove a server; refused while it has meetings unless --force.") { idArg, forceOpt };
        remove.SetAction((p, ct) => WithClient(p, async c =>
        {
            output.WriteLine((await c.RemoveAsync(p.GetValue(idArg)!, p.GetValue(forceOpt), p.GetValue(_reason), ct)).Message + ".");
            return Ok;
        }));
        servers.Add(remove);

        var eventsId = new Argument<string?>("id") { Description = "Only this server's events.", Arity = ArgumentArity.ZeroOrOne };
        var limitOpt = new Option<int>("--limit") { Description = "How many events (newest first).", DefaultValueFactory = _ => 50 };
        var events = new Command("events", "Who changed what, when and why.") { eventsId, limitOpt };
        events.SetAction((p, ct) => WithClient(p, async c => { PrintEvents(await c.EventsAsync(p.GetValue(eventsId), p.GetValue(limitOpt), ct)); return Ok; }));
        servers.Add(events);

        var fileArg = new Argument<FileInfo>("file") { Description = "A YAML file in Scalelite's servers:sync format ('-' for standard input)." };
        var modeOpt = new Option<SyncMode>("--mode") { Description = "keep: leave servers not in the file alone; cordon (default): cordon them; force: remove them and apply every difference at once.", DefaultValueFactory = _ => SyncMode.Cordon };
        var dryRunOpt = new Option<bool>("--dry-run") { Description = "Print the plan, change nothing." };
        var sync = new Command("sync", "Bring the pool in line with a declarative servers file.") { fileArg, modeOpt, dryRunOpt };
        sync.SetAction((p, ct) => SyncAsync(p, p.GetValue(fileArg)!, p.GetValue(modeOpt), p.GetValue(dryRunOpt), ct));
        servers.Add(sync);

        var verboseOpt = new Option<bool>("--verbose") { Description = "Also state, load, bbb_version and online, as servers:yaml[verbose]." };
        var export = new Command("export", "Print the servers as Scalelite's servers:yaml does: a file 'servers sync' reads back.") { verboseOpt };
        export.SetAction((p, ct) => WithClient(p, async c =>
        {
            output.Write(ServerSync.Export(await c.ListServersAsync(ct), p.GetValue(verboseOpt)));
            return Ok;
        }));
        servers.Add(export);

        var listFileArg = new Argument<string>("file") { Description = "YAML with a 'servers:' list of url and secret." };
        var addAll = new Command("add-all", "Add every server of a list, each disabled, as Scalelite's servers:addAll.") { listFileArg };
        addAll.SetAction(async (p, ct) =>
        {
            IReadOnlyList<(string Url, string Secret)> list;
            try
            {
                list = ServerSync.ParseList(await File.ReadAllTextAsync(p.GetValue(listFileArg)!, ct));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"{p.GetValue(listFileArg)}: {e.Message}");
                return Usage;
            }

            return await WithClient(p, async c =>
            {
                foreach (var (url, secret) in list)
                {
                    var added = await c.AddServerAsync(new { url, secret }, ct);
                    output.WriteLine($"server: {added.Server.Url}");
                    output.WriteLine($"id: {added.Server.Id}");
                }

                return Ok;
            });
        });
        servers.Add(addAll);

        var headroom = new Command("headroom", "Used and free capacity, and whether the pool survives losing its largest server.");
        headroom.SetAction((p, ct) => WithClient(p, async c =>
        {
            var h = await c.HeadroomAsync(ct);
            output.WriteLine(h.Summary);
            if (h.Report.Judged)
            {
                output.WriteLine($"capacity {h.Report.Capacity}, used {h.Report.Used}, free {h.Report.Free}, without the largest {h.Report.CapacityWithoutLargest}, missing {h.Report.Missing}");
            }

            if (h.Report.Undeclared.Count > 0)
            {
                output.WriteLine($"no capacity declared (left out): {string.Join(", ", h.Report.Undeclared)}");
            }

            return h.Report.SurvivesLargestLoss ? Ok : Failed;
        }));
        root.Add(headroom);

        var alerts = new Command("alerts", "The active alerts (exit code 1 while any is active).");
        alerts.SetAction((p, ct) => WithClient(p, async c =>
        {
            var a = await c.AlertsAsync(ct);
            PrintAlerts(a);
            return a.Alerts.Count == 0 ? Ok : Failed;
        }));
        root.Add(alerts);

        var meetings = new Command("meetings", "The pool's meetings.");
        var meetingsList = new Command("list", "Running meetings, from every server.");
        meetingsList.SetAction((p, ct) => WithClient(p, async c => { PrintMeetings(await c.MeetingsAsync(ct)); return Ok; }));
        var meetingArg = new Argument<string>("meeting-id") { Description = "The meetingID the LMS gave." };
        var meetingsEnd = new Command("end", "End a meeting.") { meetingArg };
        meetingsEnd.SetAction((p, ct) => WithClient(p, async c =>
        {
            await c.EndMeetingAsync(p.GetValue(meetingArg)!, ct);
            output.WriteLine($"Ended {p.GetValue(meetingArg)}.");
            return Ok;
        }));
        var tenantOpt = new Option<string?>("--tenant") { Description = "The meeting's tenant (default: the default tenant)." };
        var scaleliteInfoOpt = new Option<bool>("--scalelite-info")
        {
            Description = "Instead of the story, the running meeting as Scalelite's 'rake meetings:info' prints it: its owner's getMeetingInfo.",
        };
        var meetingsShow = new Command("show", "A meeting's story: where each create placed it and why, its joins, its end and its recordings.") { meetingArg, tenantOpt, scaleliteInfoOpt };
        meetingsShow.SetAction((p, ct) => WithClient(p, async c =>
        {
            if (p.GetValue(scaleliteInfoOpt))
            {
                return await PrintScaleliteInfoAsync(c, p.GetValue(meetingArg)!, p.GetValue(tenantOpt), ct);
            }

            PrintStory(await c.MeetingHistoryAsync(p.GetValue(meetingArg)!, p.GetValue(tenantOpt), ct));
            return Ok;
        }));
        meetings.Add(meetingsList);
        meetings.Add(meetingsShow);
        meetings.Add(meetingsEnd);
        root.Add(meetings);
        new LocalCommands(output, error, _environment).AddTo(root);
        new TenantCommands(output, WithClient, Console2).AddTo(root);
        return root;
    }

    private async Task<int> WithClient(ParseResult parse, Func<OperatorClient, Task<int>> action)
    {
        var url = parse.GetValue(_url) ?? _environment("SCALELITE_URL");
        // The admin secret when the services have one (they then refuse the load-balancer secret on the operator API).
        var secret = parse.GetValue(_secret) ?? _environment("Scalelite__AdminSecrets") ?? _environment("LOADBALANCER_SECRET");
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            error.WriteLine(string.IsNullOrWhiteSpace(url)
                ? "No API URL: pass --url http(s)://HOST or set SCALELITE_URL."
                : $"--url must be an absolute http(s) URL, not '{url}'.");
            return Usage;
        }

        if (string.IsNullOrWhiteSpace(secret))
        {
            error.WriteLine("No secret: pass --secret or set LOADBALANCER_SECRET.");
            return Usage;
        }

        var actor = "cli:" + (_environment("USER") is { Length: > 0 } user ? user : Environment.UserName);
        using var client = new OperatorClient(baseUrl, secret.Split(':')[0], actor, handler);
        try
        {
            return await action(client);
        }
        catch (OperatorApiException e)
        {
            error.WriteLine(e.Message);
            return Failed;
        }
        catch (HttpRequestException e)
        {
            error.WriteLine($"Cannot reach {baseUrl}: {e.Message}");
            return Failed;
        }
    }

    private async Task<int> DrainAsync(OperatorClient client, string id, string? reason, bool wait, double timeoutSeconds, CancellationToken ct)
    {
        var progress = await client.DrainAsync(id, reason, 0, ct);
        PrintDrain(progress);
        if (!wait || progress.Drained)
        {
            return Ok;
        }

        var clock = Stopwatch.StartNew();
        var last = progress;
        while (!progress.Drained)
        {
            if (clock.Elapsed.TotalSeconds >= timeoutSeconds)
            {
                error.WriteLine($"Timed out after {timeoutSeconds:0} s: {id} is still {progress.State} with {Math.Max(progress.MeetingsReported, progress.MeetingsOwned)} meeting(s).");
                return Failed;
            }

            await Task.Delay(TimeSpan.FromSeconds(Math.Min(2, timeoutSeconds)), ct);
            progress = await client.DrainStatusAsync(id, ct);
            if (progress != last)
            {
                PrintDrain(progress);
                last = progress;
            }
        }

        return Ok;
    }

    private async Task<int> SyncAsync(ParseResult parse, FileInfo file, SyncMode mode, bool dryRun, CancellationToken ct)
    {
        IReadOnlyList<DesiredServer> desired;
        try
        {
            var text = file.Name == "-" ? await Console.In.ReadToEndAsync(ct) : await File.ReadAllTextAsync(file.FullName, ct);
            desired = ServerSync.Parse(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // One line per error: the whole file is checked, and nothing is changed while any entry is wrong.
            foreach (var line in e.Message.Split('\n'))
            {
                error.WriteLine($"{file.Name}: {line.TrimEnd('\r')}");
            }

            return Usage;
        }

        return await WithClient(parse, async client =>
        {
            var plan = ServerSync.Plan(desired, await client.ListServersAsync(ct), mode);
            if (plan.Where(s => s.Kind == "invalid").Select(s => s.Description).ToList() is { Count: > 0 } invalid)
            {
                // As the file's own errors: nothing is changed while any entry cannot be applied.
                foreach (var line in invalid)
                {
                    error.WriteLine($"{file.Name}: {line}");
                }

                return Usage;
            }

            if (plan.Count == 0)
            {
                output.WriteLine("In sync: nothing to do.");
                return Ok;
            }

            var failures = 0;
            foreach (var step in plan)
            {
                output.WriteLine((dryRun ? "would " : string.Empty) + step.Description);
                if (step.Kind == "conflict")
                {
                    failures++;
                }

                if (dryRun || step.Kind == "conflict")
                {
                    continue;
                }

                try
                {
                    await ApplyAsync(client, step, mode, parse.GetValue(_reason) ?? $"servers sync ({mode.ToString().ToLowerInvariant()})", ct);
                }
                catch (OperatorApiException e)
                {
                    failures++;
                    error.WriteLine($"  failed: {e.Message}");
                }
            }

            output.WriteLine(dryRun ? $"Dry run: {plan.Count} change(s) planned, none made." : $"{plan.Count - failures} of {plan.Count} change(s) made.");
            return failures == 0 ? Ok : Failed;
        });
    }

    private static async Task ApplyAsync(OperatorClient client, SyncStep step, SyncMode mode, string reason, CancellationToken ct)
    {
        switch (step.Kind)
        {
            case "add":
                // The file's key becomes the id, as Scalelite's sync adopts it (Parse has checked it and the secret).
                var want = step.Desired!;
                var added = await client.AddServerAsync(new { id = want.Key, url = want.Url, secret = want.Secret, loadMultiplier = want.LoadMultiplier, tag = want.Tag, capacity = want.Capacity, reason }, ct);
                if (want.State is "enabled" or "cordoned")
                {
                    await client.SetStateAsync(added.Server.Id, want.State == "enabled" ? "enable" : "cordon", reason, ct);
                }

                break;
            case "update":
                await client.UpdateServerAsync(step.ServerId!, step.Changes!, ct);
                break;
            case "state":
                await client.SetStateAsync(step.ServerId!, step.State switch { "enabled" => "enable", "cordoned" => "cordon", _ => "disable" }, reason, ct);
                break;
            case "remove":
                await client.RemoveAsync(step.ServerId!, force: mode == SyncMode.Force, reason, ct);
                break;
            default:
                throw new UnreachableException(step.Kind);
        }
    }

    private IAnsiConsole Console2()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 240;
        return console;
    }

    private void PrintStatus(List<ServerView> servers)
    {
        var table = new Table { Border = TableBorder.Simple };
        foreach (var column in new[] { "HOSTNAME", "STATE", "STATUS", "MEETINGS", "USERS", "LARGEST MEETING", "VIDEOS", "LOAD", "CAPACITY", "BBB VERSION", "TAG" })
        {
            table.AddColumn(new TableColumn(column) { NoWrap = true });
        }

        foreach (var s in servers)
        {
            table.AddRow(
                Markup.Escape(Uri.TryCreate(s.Url, UriKind.Absolute, out var u) ? u.Host : s.Url), s.State, s.Online ? "online" : "offline",
                Num(s.Meetings), Num(s.Users), Num(s.LargestMeeting), Num(s.Videos),
                s.Load is { } load ? load.ToString("0.##", CultureInfo.InvariantCulture) : "-",
                s.Capacity?.ToString(CultureInfo.InvariantCulture) ?? "-", Markup.Escape(s.BbbVersion ?? "-"), Markup.Escape(s.Tag ?? ""));
        }

        Console2().Write(table);
    }

    private static async Task<AlertsResponse?> AlertsOrNullAsync(OperatorClient client, CancellationToken ct)
    {
        try
        {
            return await client.AlertsAsync(ct);
        }
        catch (OperatorApiException)
        {
            // An API that cannot tell (an older version, its database down) must not hide the servers' table.
            return null;
        }
    }

    private static string Evaluated(AlertsResponse alerts) => alerts.EvaluatedSecondsAgo is { } ago
        ? $"evaluated {ago.ToString("0", CultureInfo.InvariantCulture)} s ago"
        : "never evaluated: is the poller running?";

    private void PrintAlertsHeader(AlertsResponse? alerts)
    {
        if (alerts is null)
        {
            output.WriteLine("Alerts: unknown (the API did not answer /api/v1/alerts)");
            return;
        }

        output.WriteLine(alerts.Alerts.Count == 0 ? $"Alerts: none ({Evaluated(alerts)})" : $"Alerts: {alerts.Alerts.Count} active ({Evaluated(alerts)})");
        foreach (var a in alerts.Alerts)
        {
            output.WriteLine($"  {a.Severity.ToUpperInvariant(),-8} {a.Alert} {a.Subject}: {a.Message}");
        }

        output.WriteLine();
    }

    private void PrintAlerts(AlertsResponse alerts)
    {
        if (alerts.Alerts.Count == 0)
        {
            output.WriteLine($"No active alerts ({Evaluated(alerts)}).");
            return;
        }

        // One alert per entry, its message on a line of its own: messages are sentences, too long for a table's column.
        foreach (var a in alerts.Alerts)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{a.Severity.ToUpperInvariant(),-8} {a.Alert} {a.Subject} since {a.Since.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (value {a.Value:0.###}, threshold {a.Threshold:0.###})"));
            output.WriteLine("         " + a.Message);
        }

        output.WriteLine(Evaluated(alerts) + ".");
    }

    private void PrintList(List<ServerView> servers)
    {
        if (servers.Count == 0)
        {
            output.WriteLine("No servers.");
            return;
        }

        var table = new Table { Border = TableBorder.Simple };
        foreach (var column in new[] { "ID", "URL", "STATE", "STATUS", "LOAD MULTIPLIER", "TAG", "LAST POLL ERROR" })
        {
            table.AddColumn(new TableColumn(column) { NoWrap = true });
        }

        foreach (var s in servers)
        {
            table.AddRow(s.Id, Markup.Escape(s.Url), s.State, s.Online ? "online" : "offline", s.LoadMultiplier.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(s.Tag ?? ""), Markup.Escape(s.LastPollError ?? ""));
        }

        Console2().Write(table);
    }

    private void PrintEvents(List<EventItem> events)
    {
        var table = new Table { Border = TableBorder.Simple };
        foreach (var column in new[] { "AT (UTC)", "SERVER", "ACTION", "FROM", "TO", "BY", "WHY" })
        {
            table.AddColumn(new TableColumn(column) { NoWrap = true });
        }

        foreach (var e in events)
        {
            table.AddRow(e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), e.ServerId, e.Action, e.FromState ?? "", e.ToState ?? "",
                Markup.Escape(e.Actor), Markup.Escape(e.Reason ?? ""));
        }

        Console2().Write(table);
    }

    private void PrintMeetings(List<MeetingItem> meetings)
    {
        var table = new Table { Border = TableBorder.Simple };
        foreach (var column in new[] { "MEETING ID", "NAME", "PARTICIPANTS", "VIDEOS", "CREATED" })
        {
            table.AddColumn(new TableColumn(column) { NoWrap = true });
        }

        foreach (var m in meetings)
        {
            table.AddRow(Markup.Escape(m.MeetingId), Markup.Escape(m.Name), Num(m.Participants), Num(m.Videos), Markup.Escape(m.CreateDate));
        }

        Console2().Write(table);
    }

    /// <summary>Each meeting run under the ID, newest first: its create and placement, joins, end and recordings.</summary>
    private void PrintStory(MeetingStoryView story)
    {
        output.WriteLine(story.Tenant.Length == 0 ? $"Meeting {story.MeetingId}" : $"Meeting {story.MeetingId} (tenant {story.Tenant})");
        foreach (var run in story.Runs)
        {
            output.WriteLine();
            output.WriteLine($"  internalMeetingID {run.InternalMeetingId}");
            var where = run.ServerId is null ? "an unknown server" : $"{run.ServerId} ({run.ServerHost})";
            output.WriteLine(run.Origin switch
            {
                "created" => $"    created    {At(run.CreatedAt)} on {where}",
                "adopted" => $"    adopted    {At(run.CreatedAt)} on {where} (found running there, not created through this pool's create)",
                _ => $"    created    (not seen: before the history began, or while it could not be written) on {where}",
            });
            if (run.Candidates.Count > 0)
            {
                output.WriteLine("    placement  " + string.Join(", ", run.Candidates.Select(c =>
                    $"{c.ServerId} load {(c.Load is { } l ? l.ToString("0.##", CultureInfo.InvariantCulture) : "?")}"
                    + (c.Chosen ? " (chosen)" : string.Empty) + (c.Answered ? string.Empty : " (did not answer)"))));
            }

            output.WriteLine(run.Joins == 0
                ? "    joins      0"
                : $"    joins      {Num(run.Joins)} (first {At(run.FirstJoinAt)}, last {At(run.LastJoinAt)}, to within a few seconds)");
            output.WriteLine(run.EndedAt is null
                ? "    ended      not yet (running, or its end was not seen)"
                : $"    ended      {At(run.EndedAt)} by {run.EndedBy}{(run.EndDetail is { Length: > 0 } d ? $": {d}" : string.Empty)}");
            foreach (var r in run.Recordings)
            {
                var delay = r.ImportDelaySeconds is { } seconds ? $", {Duration(seconds)} after the meeting ended" : string.Empty;
                output.WriteLine($"    recording  {r.RecordId} ({string.Join(", ", r.Formats)}) imported {At(r.ImportedAt)}{delay}");
            }
        }
    }

    /// <summary>The metadata <c>rake meetings:info</c> prints, in its order.</summary>
    private static readonly string[] ScaleliteInfoMetadata =
    [
        "bbb-context-name", "analytics-callback-url", "bbb-recording-tags", "bbb-origin-server-common-name", "bbb-context-label", "bbb-origin",
        "bbb-context", "bbb-context-id", "bbb-recording-name", "bbb-origin-server-name", "bbb-recording-description", "bbb-origin-tag",
    ];

    /// <summary>
    /// <c>rake meetings:info</c>'s layout, line for line, so that scripts reading it keep working; its two slips are
    /// not copied (the "Serevr url" label, and <c>bbb-origin</c> showing <c>bbb-context-name</c>'s value).
    /// </summary>
    private async Task<int> PrintScaleliteInfoAsync(OperatorClient client, string meetingId, string? tenant, CancellationToken ct)
    {
        MeetingInfoView info;
        try
        {
            info = await client.MeetingInfoAsync(meetingId, tenant, ct);
        }
        catch (Exception e) when (e is OperatorApiException or HttpRequestException)
        {
            error.WriteLine($"WARNING: Could not get info for meeting id={meetingId}: {e.Message}");
            return Failed;
        }

        output.WriteLine();
        output.WriteLine($"Meeting ID: {info.MeetingId}");
        output.WriteLine($"\tMeeting Name: {info.MeetingName}");
        output.WriteLine($"\tInternal MeetingID: {info.InternalMeetingId}");
        output.WriteLine($"\tCreated Date: {info.CreateDate}");
        output.WriteLine($"\tRecording Enabled: {info.Recording}");
        output.WriteLine($"\tServer id: {info.ServerId}");
        output.WriteLine($"\tServer url: {info.ServerUrl}");
        output.WriteLine("\tMetaData:");
        foreach (var key in ScaleliteInfoMetadata)
        {
            output.WriteLine($"\t\t{key}: {info.Metadata.GetValueOrDefault(key)}");
        }

        return Ok;
    }

    private static string At(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "?";

    private static string Duration(double seconds) => seconds switch
    {
        < 120 => $"{seconds.ToString("0.0", CultureInfo.InvariantCulture)} s",
        < 7200 => $"{(seconds / 60).ToString("0.0", CultureInfo.InvariantCulture)} min",
        _ => $"{(seconds / 3600).ToString("0.0", CultureInfo.InvariantCulture)} h",
    };

    private void PrintAdmission(AdmissionView result) =>
        output.WriteLine(result.Admitted
            ? $"{result.Server.Id} may be enabled: online, accepts our secret, BBB {result.Server.BbbVersion}."
            : $"{result.Server.Id} may not be enabled yet: {string.Join("; ", result.Reasons)}.");

    private void PrintDrain(DrainView p) =>
        output.WriteLine(p.Drained
            ? $"{p.ServerId} is drained ({p.State})."
            : $"{p.ServerId} is {p.State}: {Math.Max(p.MeetingsReported, p.MeetingsOwned)} meeting(s) left.");

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
}
