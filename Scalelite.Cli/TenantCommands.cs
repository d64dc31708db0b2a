using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Scalelite.Cli;

/// <summary>
/// <c>scalelite tenants list|add|update|remove</c>, <c>scalelite tenants settings list|add|remove</c> and
/// <c>scalelite recordings assign-tenant</c>, through the operator API (Scalelite's <c>tenants:*</c>,
/// <c>tenantSettings:*</c> and <c>recordings:addToTenant</c> rake tasks).
/// </summary>
internal sealed class TenantCommands(TextWriter output, Func<ParseResult, Func<OperatorClient, Task<int>>, Task<int>> withClient, Func<IAnsiConsole> console)
{
    public void AddTo(RootCommand root)
    {
        var tenants = new Command("tenants", "Tenants (multitenancy): each LMS's host or path, secrets, settings and limits.");
        root.Add(tenants);

        var list = new Command("list", "Tenants with their usage and limits.");
        list.SetAction((p, ct) => withClient(p, async c => { PrintTenants(await c.ListTenantsAsync(ct)); return CliApp.Ok; }));
        tenants.Add(list);

        var nameArg = new Argument<string>("name") { Description = "The tenant's name: its host label (NAME.URL_HOST) and path (/t/NAME)." };
        var secretsOpt = new Option<string?>("--secrets") { Description = "The tenant's secrets, separated by ':' (for a rollover: old and new, later only the new)." };
        var maxMeetings = new Option<int?>("--max-meetings") { Description = "Most meetings at once (0 removes the limit)." };
        var maxParticipants = new Option<int?>("--max-participants") { Description = "Most participants in all its meetings together (0 removes the limit)." };
        var maxPerMeeting = new Option<int?>("--max-meeting-participants") { Description = "Largest maxParticipants a meeting may have; meetings without one get it (0 removes the limit)." };
        var add = new Command("add", "Add a tenant.") { nameArg, secretsOpt, maxMeetings, maxParticipants, maxPerMeeting };
        add.SetAction((p, ct) => withClient(p, async c =>
        {
            if (string.IsNullOrWhiteSpace(p.GetValue(secretsOpt)))
            {
                throw new OperatorApiException(System.Net.HttpStatusCode.BadRequest, "A new tenant needs --secrets.");
            }

            var added = await c.AddTenantAsync(new
            {
                name = p.GetValue(nameArg),
                secrets = p.GetValue(secretsOpt),
                maxMeetings = p.GetValue(maxMeetings),
                maxParticipants = p.GetValue(maxParticipants),
                maxMeetingParticipants = p.GetValue(maxPerMeeting),
            }, ct);
            output.WriteLine($"Added tenant {added.Name}, id {added.Id}.");
            return CliApp.Ok;
        }));
        tenants.Add(add);

        var tenantArg = new Argument<string>("tenant") { Description = "The tenant's id or name." };
        var renameOpt = new Option<string?>("--name") { Description = "A new name." };
        var update = new Command("update", "Change a tenant's name, secrets or limits.") { tenantArg, renameOpt, secretsOpt, maxMeetings, maxParticipants, maxPerMeeting };
        update.SetAction((p, ct) => withClient(p, async c =>
        {
            var changed = await c.UpdateTenantAsync(p.GetValue(tenantArg)!, new
            {
                name = p.GetValue(renameOpt),
                secrets = p.GetValue(secretsOpt),
                maxMeetings = p.GetValue(maxMeetings),
                maxParticipants = p.GetValue(maxParticipants),
                maxMeetingParticipants = p.GetValue(maxPerMeeting),
            }, ct);
            output.WriteLine($"Updated tenant {changed.Name} ({changed.Secrets.Count} secret(s), limits {Limits(changed.Limits)}).");
            return CliApp.Ok;
        }));
        tenants.Add(update);

        var forceOpt = new Option<bool>("--force") { Description = "Remove even while it has running meetings or recordings (they stay, unreachable)." };
        var remove = new Command("remove", "Remove a tenant and its settings; refused while it has meetings or recordings unless --force.") { tenantArg, forceOpt };
        remove.SetAction((p, ct) => withClient(p, async c =>
        {
            output.WriteLine((await c.RemoveTenantAsync(p.GetValue(tenantArg)!, p.GetValue(forceOpt), ct)).Message + ".");
            return CliApp.Ok;
        }));
        tenants.Add(remove);

        var settings = new Command("settings", "A tenant's create and join parameters: defaults (the request wins) and overrides.");
        tenants.Add(settings);
        var settingsList = new Command("list", "A tenant's settings.") { tenantArg };
        settingsList.SetAction((p, ct) => withClient(p, async c => { PrintSettings(await c.TenantSettingsAsync(p.GetValue(tenantArg)!, ct)); return CliApp.Ok; }));
        settings.Add(settingsList);

        var paramArg = new Argument<string>("param") { Description = "A BBB create or join parameter, e.g. record or meta_server-tag." };
        var valueArg = new Argument<string>("value") { Description = "Its value." };
        var overrideOpt = new Option<bool>("--override") { Description = "Replace what the request says (default: only fill it in when the request has none)." };
        var scopeOpt = new Option<string>("--scope") { Description = "all (create and join, as Scalelite), create or join.", DefaultValueFactory = _ => "all" };
        scopeOpt.AcceptOnlyFromAmong("all", "create", "join");
        var settingsAdd = new Command("add", "Add a setting.") { tenantArg, paramArg, valueArg, overrideOpt, scopeOpt };
        settingsAdd.SetAction((p, ct) => withClient(p, async c =>
        {
            var setting = await c.AddTenantSettingAsync(p.GetValue(tenantArg)!, new
            {
                param = p.GetValue(paramArg),
                value = p.GetValue(valueArg),
                @override = p.GetValue(overrideOpt),
                scope = p.GetValue(scopeOpt),
            }, ct);
            output.WriteLine($"Added setting {setting.Id}: {setting.Param}={setting.Value} ({(setting.Override ? "override" : "default")}, {setting.Scope}).");
            return CliApp.Ok;
        }));
        settings.Add(settingsAdd);

        var settingIdArg = new Argument<string>("id") { Description = "The setting's id (see 'tenants settings list')." };
        var settingsRemove = new Command("remove", "Remove a setting.") { tenantArg, settingIdArg };
        settingsRemove.SetAction((p, ct) => withClient(p, async c =>
        {
            output.WriteLine((await c.RemoveTenantSettingAsync(p.GetValue(tenantArg)!, p.GetValue(settingIdArg)!, ct)).Message + ".");
            return CliApp.Ok;
        }));
        settings.Add(settingsRemove);

        var recordings = root.Subcommands.FirstOrDefault(c => c.Name == "recordings");
        if (recordings is null)
        {
            recordings = new Command("recordings", "The recordings index.");
            root.Add(recordings);
        }

        var dryRunOpt = new Option<bool>("--dry-run") { Description = "Count them; change nothing." };
        var assign = new Command("assign-tenant", "Give every recording made before tenants existed (the default tenant's) to a tenant.") { tenantArg, dryRunOpt };
        assign.SetAction((p, ct) => withClient(p, async c =>
        {
            var result = await c.AssignRecordingsAsync(p.GetValue(tenantArg)!, p.GetValue(dryRunOpt), ct);
            output.WriteLine(result.DryRun
                ? $"{result.Recordings} recording(s) would be given to tenant {result.TenantName} ({result.TenantId})."
                : $"All existing recordings have been linked to tenant {result.TenantName} ({result.TenantId}): {result.Recordings} recording(s).");
            return CliApp.Ok;
        }));
        recordings.Add(assign);
    }

    private void PrintTenants(List<TenantItem> tenants)
    {
        if (tenants.Count == 0)
        {
            output.WriteLine("No tenants.");
            return;
        }

        var table = new Table { Border = TableBorder.Simple };
        foreach (var column in new[] { "ID", "NAME", "SECRETS", "MEETINGS", "PARTICIPANTS", "MAX PER MEETING", "SETTINGS" })
        {
            table.AddColumn(new TableColumn(column) { NoWrap = true });
        }

        foreach (var t in tenants)
        {
            table.AddRow(t.Id, Markup.Escape(t.Name), Num(t.Secrets.Count),
                Of(t.Usage.Meetings, t.Limits.MaxMeetings), Of(t.Usage.Participants, t.Limits.MaxParticipants),
                t.Limits.MaxMeetingParticipants?.ToString(CultureInfo.InvariantCulture) ?? "-", Num(t.Settings.Count));
        }

        console().Write(table);
        output.WriteLine($"Total number of tenants: {tenants.Count}");
    }

    private void PrintSettings(List<TenantSettingItem> settings)
    {
        if (settings.Count == 0)
        {
            output.WriteLine("No settings.");
            return;
        }

        var table = new Table { Border = TableBorder.Simple };
        foreach (var column in new[] { "ID", "PARAM", "VALUE", "KIND", "SCOPE" })
        {
            table.AddColumn(new TableColumn(column) { NoWrap = true });
        }

        foreach (var s in settings)
        {
            table.AddRow(s.Id, Markup.Escape(s.Param), Markup.Escape(s.Value), s.Override ? "override" : "default", s.Scope);
        }

        console().Write(table);
    }

    private static string Limits(TenantLimitsItem l) =>
        $"meetings {l.MaxMeetings?.ToString(CultureInfo.InvariantCulture) ?? "-"}, participants {l.MaxParticipants?.ToString(CultureInfo.InvariantCulture) ?? "-"}, per meeting {l.MaxMeetingParticipants?.ToString(CultureInfo.InvariantCulture) ?? "-"}";

    private static string Of(int used, int? max) => max is { } limit ? $"{Num(used)}/{Num(limit)}" : Num(used);

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);
}
