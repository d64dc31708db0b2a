namespace Scalelite.Core.Persistence;

/// <summary>The operator's intent for a server: may it take new meetings?</summary>
public enum ServerState
{
    /// <summary>Takes new meetings.</summary>
    Enabled,

    /// <summary>Keeps its running meetings, takes no new ones; becomes <see cref="Disabled"/> when empty.</summary>
    Cordoned,

    /// <summary>Takes nothing and is left out of getMeetings.</summary>
    Disabled,
}

/// <summary>A BBB server of the pool: the durable record, plus what the poller last observed.</summary>
public sealed class Server
{
    public string Id { get; set; } = Guid.CreateVersion7().ToString();

    /// <summary>The API base, e.g. <c>https://bbb1.example.com/bigbluebutton/api</c> (no trailing slash).</summary>
    public required string Url { get; set; }

    public required string Secret { get; set; }

    public string? Tag { get; set; }

    public ServerState State { get; set; } = ServerState.Disabled;

    public double LoadMultiplier { get; set; } = 1.0;

    public bool Online { get; set; }

    public int HealthyCounter { get; set; }

    public int UnhealthyCounter { get; set; }

    public DateTimeOffset? LastPolledAt { get; set; }

    public string? LastPollError { get; set; }

    public string? BbbVersion { get; set; }

    public int Meetings { get; set; }

    public int Users { get; set; }

    public int LargestMeeting { get; set; }

    public int Videos { get; set; }

    /// <summary>The load computed at the last successful poll; null while unknown (offline or never polled).</summary>
    public double? Load { get; set; }

    /// <summary>How many users the operator says it can hold; null when not declared.</summary>
    public int? Capacity { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The longest id the <c>servers.id</c> column holds.</summary>
    public const int MaxIdLength = 64;

    /// <summary>
    /// Scalelite's rule for an id an operator chooses (<c>servers:sync</c>'s <c>^[a-zA-Z0-9_.-]+$</c>), within our
    /// column's length: such an id is also safe in a URL path and a Redis key.
    /// </summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>Normalises a server URL as stored: no trailing slash, and <c>/bigbluebutton/api</c> added when only a host was given.</summary>
    public static string NormalizeUrl(string url)
    {
        var trimmed = url.Trim().TrimEnd('/');
        if (Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && (uri.AbsolutePath is "" or "/"))
        {
            trimmed += "/bigbluebutton/api";
        }

        return trimmed;
    }
}
