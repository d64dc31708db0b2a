namespace Scalelite.AppHost;

public enum ResourceState
{
    NotStarted,
    Starting,
    Running,
    Healthy,
    Unhealthy,
    Stopping,
    Stopped,
    Exited,
    Failed,
}

/// <summary>An immutable snapshot of one resource, as shown in the status table.</summary>
/// <param name="Health">A short health detail: "online"/"offline" for simulators, the /health answer for services.</param>
public sealed record ResourceStatus(
    string Name,
    ResourceState State,
    string? Url = null,
    string? Health = null,
    int? ExitCode = null,
    string? LogFile = null)
{
    /// <summary>One line for logs and non-terminal output.</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"{Name}: {State}" };
        if (ExitCode is int code)
        {
            parts.Add($"exit code {code}");
        }
        if (!string.IsNullOrEmpty(Health))
        {
            parts.Add(Health);
        }
        if (!string.IsNullOrEmpty(Url))
        {
            parts.Add(Url);
        }
        if (State is ResourceState.Exited or ResourceState.Failed && LogFile is not null)
        {
            parts.Add($"see {LogFile}");
        }
        return string.Join(", ", parts);
    }
}
