namespace Scalelite.Core.Persistence;

/// <summary>An audited change of a server: who did what, when and why (enable, cordon, drain, panic, offline, ...).</summary>
public sealed class ServerEvent
{
    public long Id { get; set; }

    public required string ServerId { get; set; }

    public required string Action { get; set; }

    /// <summary>Who: an operator name, <c>admin-api</c>, <c>poller</c>, <c>cli</c>.</summary>
    public required string Actor { get; set; }

    public string? Reason { get; set; }

    public string? FromState { get; set; }

    public string? ToState { get; set; }

    public DateTimeOffset At { get; set; }
}
