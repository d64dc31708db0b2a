using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace Scalelite.Cli;

/// <summary>A failed call to the API, with the message the API gave.</summary>
public sealed class OperatorApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>Talks to a running Scalelite API: the operator JSON API (<c>/api/v1</c>) and, for meetings, the BBB API.</summary>
public sealed class OperatorClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly string _secret;

    public OperatorClient(Uri baseUrl, string secret, string actor, HttpMessageHandler? handler = null)
    {
        _secret = secret;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = new Uri(baseUrl.ToString().TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromMinutes(10);
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        _http.DefaultRequestHeaders.Add("X-Scalelite-Actor", actor);
    }

    public Task<List<ServerView>> ListServersAsync(CancellationToken ct) => SendAsync<List<ServerView>>(HttpMethod.Get, "api/v1/servers", null, ct);

    public Task<ServerView> GetServerAsync(string id, CancellationToken ct) => SendAsync<ServerView>(HttpMethod.Get, $"api/v1/servers/{Uri.EscapeDataString(id)}", null, ct);

    public Task<AdmissionView> AddServerAsync(object body, CancellationToken ct) => SendAsync<AdmissionView>(HttpMethod.Post, "api/v1/servers", body, ct);

    public Task<ServerView> UpdateServerAsync(string id, object body, CancellationToken ct) => SendAsync<ServerView>(HttpMethod.Patch, $"api/v1/servers/{Uri.EscapeDataString(id)}", body, ct);

    public Task<ServerView> SetStateAsync(string id, string action, string? reason, CancellationToken ct) =>
        SendAsync<ServerView>(HttpMethod.Post, $"api/v1/servers/{Uri.EscapeDataString(id)}/{action}", new { reason }, ct);

    public Task<DrainView> DrainAsync(string id, string? reason, double waitSeconds, CancellationToken ct) =>
        SendAsync<DrainView>(HttpMethod.Post, $"api/v1/servers/{Uri.EscapeDataString(id)}/drain", new { reason, waitSeconds }, ct);

    public Task<DrainView> DrainStatusAsync(string id, CancellationToken ct) => SendAsync<DrainView>(HttpMethod.Get, $"api/v1/servers/{Uri.EscapeDataString(id)}/drain", null, ct);

    public Task<AdmissionView> ProbeAsync(string id, bool admissionTest, CancellationToken ct) =>
        SendAsync<AdmissionView>(HttpMethod.Post, $"api/v1/servers/{Uri.EscapeDataString(id)}/probe", new { admissionTest }, ct);

    public Task<PanicView> PanicAsync(string id, bool endMeetings, bool keepState, string? reason, CancellationToken ct) =>
        SendAsync<PanicView>(HttpMethod.Post, $"api/v1/servers/{Uri.EscapeDataString(id)}/panic", new { endMeetings, keepState, reason }, ct);

    public Task<MessageView> RemoveAsync(string id, bool force, string? reason, CancellationToken ct) =>
        SendAsync<MessageView>(HttpMethod.Delete, $"api/v1/servers/{Uri.EscapeDataString(id)}?force={(force ? "true" : "false")}&reason={Uri.EscapeDataString(reason ?? string.Empty)}", null, ct);

    public Task<List<EventItem>> EventsAsync(string? serverId, int limit, CancellationToken ct) =>
        SendAsync<List<EventItem>>(HttpMethod.Get, $"api/v1/events?limit={limit}{(serverId is null ? string.Empty : "&serverId=" + Uri.EscapeDataString(serverId))}", null, ct);

    public Task<HeadroomResponse> HeadroomAsync(CancellationToken ct) => SendAsync<HeadroomResponse>(HttpMethod.Get, "api/v1/headroom", null, ct);

    public Task<AlertsResponse> AlertsAsync(CancellationToken ct) => SendAsync<AlertsResponse>(HttpMethod.Get, "api/v1/alerts", null, ct);

    public Task<List<TenantItem>> ListTenantsAsync(CancellationToken ct) => SendAsync<List<TenantItem>>(HttpMethod.Get, "api/v1/tenants", null, ct);

    public Task<TenantItem> AddTenantAsync(object body, CancellationToken ct) => SendAsync<TenantItem>(HttpMethod.Post, "api/v1/tenants", body, ct);

    public Task<TenantItem> UpdateTenantAsync(string tenant, object body, CancellationToken ct) =>
        SendAsync<TenantItem>(HttpMethod.Patch, $"api/v1/tenants/{Uri.EscapeDataString(tenant)}", body, ct);

    public Task<MessageView> RemoveTenantAsync(string tenant, bool force, CancellationToken ct) =>
        SendAsync<MessageView>(HttpMethod.Delete, $"api/v1/tenants/{Uri.EscapeDataString(tenant)}?force={(force ? "true" : "false")}", null, ct);

    public Task<List<TenantSettingItem>> TenantSettingsAsync(string tenant, CancellationToken ct) =>
        SendAsync<List<TenantSettingItem>>(HttpMethod.Get, $"api/v1/tenants/{Uri.EscapeDataString(tenant)}/settings", null, ct);

    public Task<TenantSettingItem> AddTenantSettingAsync(string tenant, object body, CancellationToken ct) =>
        SendAsync<TenantSettingItem>(HttpMethod.Post, $"api/v1/tenants/{Uri.EscapeDataString(tenant)}/settings", body, ct);

    public Task<MessageView> RemoveTenantSettingAsync(string tenant, string id, CancellationToken ct) =>
        SendAsync<MessageView>(HttpMethod.Delete, $"api/v1/tenants/{Uri.EscapeDataString(tenant)}/settings/{Uri.EscapeDataString(id)}", null, ct);

    public Task<AssignItem> AssignRecordingsAsync(string tenant, bool dryRun, CancellationToken ct) =>
        SendAsync<AssignItem>(HttpMethod.Post, $"api/v1/tenants/{Uri.EscapeDataString(tenant)}/assign-recordings", new { dryRun }, ct);

    public Task<MeetingStoryView> MeetingHistoryAsync(string meetingId, string? tenant, CancellationToken ct) =>
        SendAsync<MeetingStoryView>(HttpMethod.Get,
            $"api/v1/meetings/history?meetingId={Uri.EscapeDataString(meetingId)}{(tenant is null ? string.Empty : "&tenant=" + Uri.EscapeDataString(tenant))}", null, ct);

    public Task<MeetingInfoView> MeetingInfoAsync(string meetingId, string? tenant, CancellationToken ct) =>
        SendAsync<MeetingInfoView>(HttpMethod.Get,
            $"api/v1/meetings/info?meetingId={Uri.EscapeDataString(meetingId)}{(tenant is null ? string.Empty : "&tenant=" + Uri.EscapeDataString(tenant))}", null, ct);

    /// <summary>The pool's meetings, through the BBB API's getMeetings (signed with the same secret, SHA-256).</summary>
    public async Task<List<MeetingItem>> MeetingsAsync(CancellationToken ct)
    {
        var xml = await BbbAsync("getMeetings", string.Empty, ct);
        return [.. (xml.Root?.Element("meetings")?.Elements("meeting") ?? []).Select(m => new MeetingItem(
            m.Element("meetingID")?.Value ?? string.Empty,
            m.Element("meetingName")?.Value ?? string.Empty,
            int.TryParse(m.Element("participantCount")?.Value, out var p) ? p : 0,
            int.TryParse(m.Element("videoCount")?.Value, out var v) ? v : 0,
            m.Element("createDate")?.Value ?? string.Empty))];
    }

    /// <summary>Ends a meeting through the BBB API.</summary>
    public async Task EndMeetingAsync(string meetingId, CancellationToken ct) =>
        await BbbAsync("end", "meetingID=" + Uri.EscapeDataString(meetingId), ct);

    private async Task<XDocument> BbbAsync(string call, string query, CancellationToken ct)
    {
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(call + query + _secret)));
        var url = $"bigbluebutton/api/{call}?{(query.Length > 0 ? query + "&" : string.Empty)}checksum={checksum}";
        var text = await _http.GetStringAsync(url, ct);
        var xml = XDocument.Parse(text);
        if (xml.Root?.Element("returncode")?.Value != "SUCCESS")
        {
            throw new OperatorApiException(HttpStatusCode.OK, $"{xml.Root?.Element("messageKey")?.Value}: {xml.Root?.Element("message")?.Value}");
        }

        return xml;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        using var response = await _http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            var message = await response.Content.ReadAsStringAsync(ct);
            try
            {
                // Our refusals carry {"message"}; a service that cannot serve (PostgreSQL down) answers problem details.
                var error = JsonDocument.Parse(message).RootElement;
                message = error.TryGetProperty("message", out var text) ? text.GetString() ?? message
                    : $"{error.GetProperty("title").GetString()}. {(error.TryGetProperty("detail", out var detail) ? detail.GetString() : null)}".Trim();
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                // Not our JSON error body (a proxy's page, say): show it as it came.
            }

            throw new OperatorApiException(response.StatusCode, $"{(int)response.StatusCode} {response.ReasonPhrase}: {message}");
        }

        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    public void Dispose() => _http.Dispose();
}

public sealed record ServerView(
    string Id, string Url, string Secret, string? Tag, string State, bool Online, int Meetings, int Users, int LargestMeeting,
    int Videos, double? Load, double LoadMultiplier, int? Capacity, string? BbbVersion, DateTimeOffset? LastPolledAt, string? LastPollError);

public sealed record AdmissionView(ServerView Server, bool Admitted, List<string> Reasons);

public sealed record DrainView(string ServerId, string State, bool Online, int MeetingsReported, int MeetingsOwned, bool Drained, bool TimedOut);

public sealed record PanicView(ServerView Server, int Meetings, bool Ended);

public sealed record MessageView(string Message);

public sealed record EventItem(long Id, string ServerId, string Action, string Actor, string? Reason, string? FromState, string? ToState, DateTimeOffset At);

public sealed record HeadroomReportView(
    bool Judged, int Capacity, int Used, int Free, string? LargestServerId, int LargestCapacity, int CapacityWithoutLargest,
    bool SurvivesLargestLoss, int Missing, List<string> Undeclared);

public sealed record HeadroomResponse(HeadroomReportView Report, string Summary);

public sealed record MeetingItem(string MeetingId, string Name, int Participants, int Videos, string CreateDate);

public sealed record AlertsResponse(DateTimeOffset? EvaluatedAt, double? EvaluatedSecondsAgo, List<AlertItem> Alerts);

public sealed record AlertItem(string Alert, string Subject, string Severity, DateTimeOffset Since, double Value, double Threshold, string Message);

public sealed record TenantLimitsItem(int? MaxMeetings, int? MaxParticipants, int? MaxMeetingParticipants);

public sealed record TenantUsageItem(int Meetings, int Participants);

public sealed record TenantSettingItem(string Id, string Param, string Value, bool Override, string Scope);

public sealed record TenantItem(string Id, string Name, List<string> Secrets, TenantLimitsItem Limits, TenantUsageItem Usage, List<TenantSettingItem> Settings);

public sealed record AssignItem(string TenantId, string TenantName, int Recordings, bool DryRun);

public sealed record CandidateView(string ServerId, double? Load, bool Chosen, bool Answered);

public sealed record RecordingRunView(string RecordId, List<string> Formats, DateTimeOffset ImportedAt, DateTimeOffset? MeetingEndedAt, double? ImportDelaySeconds);

public sealed record MeetingRunView(
    string InternalMeetingId, string? ServerId, string? ServerHost, string? Origin, DateTimeOffset? CreatedAt, List<CandidateView> Candidates, int Joins,
    DateTimeOffset? FirstJoinAt, DateTimeOffset? LastJoinAt, DateTimeOffset? EndedAt, string? EndedBy, string? EndDetail, List<RecordingRunView> Recordings);

public sealed record MeetingStoryView(string Tenant, string MeetingId, List<MeetingRunView> Runs);

public sealed record MeetingInfoView(
    string ServerId, string ServerUrl, string MeetingId, string? MeetingName, string? InternalMeetingId, string? CreateDate, string? Recording,
    Dictionary<string, string> Metadata);
