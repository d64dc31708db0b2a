using System.Text;

namespace Scalelite.AppHost;

/// <summary>
/// Shows the live status of every resource: on a terminal, a compact table redrawn every second; otherwise (CI, pipes)
/// one line per change, so logs stay readable.
/// </summary>
public sealed class StatusReporter : IAsyncDisposable
{
    private readonly DistributedApplication _app;
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _redraw;
    private int _drawnLines;
    private string? _message;

    public StatusReporter(DistributedApplication app, TextWriter output, bool interactive)
    {
        _app = app;
        _out = output;
        _interactive = interactive;
        if (interactive)
        {
            _redraw = Task.Run(RedrawLoopAsync);
        }
        else
        {
            _app.StatusChanged += WriteChange;
            _redraw = Task.CompletedTask;
        }
    }

    /// <summary>A line shown under the table (terminal) or printed once (otherwise).</summary>
    public void Announce(string message)
    {
        lock (_gate)
        {
            if (_interactive)
            {
                _message = message;
                Draw();
            }
            else
            {
                _out.WriteLine(message);
            }
        }
    }

    /// <summary>Text printed above the table once (it scrolls away normally).</summary>
    public void Print(string message)
    {
        lock (_gate)
        {
            if (_interactive)
            {
                Erase();
                _out.WriteLine(message);
                Draw();
            }
            else
            {
                _out.WriteLine(message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _app.StatusChanged -= WriteChange;
        await _stop.CancelAsync();
        await _redraw.ContinueWith(_ => { }, TaskScheduler.Default);
        if (_interactive)
        {
            lock (_gate)
            {
                Draw();
            }
        }
        _stop.Dispose();
    }

    private void WriteChange(ResourceStatus status)
    {
        lock (_gate)
        {
            _out.WriteLine($"{DateTimeOffset.Now:HH:mm:ss} {status}");
        }
    }

    private async Task RedrawLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            lock (_gate)
            {
                Draw();
            }
        }
        while (await Tick(timer));
    }

    private async Task<bool> Tick(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Erase()
    {
        if (_drawnLines > 0)
        {
            // Cursor up over the previous table, then clear to the end of the screen.
            _out.Write($"\e[{_drawnLines}A\r\e[J");
            _drawnLines = 0;
        }
    }

    private void Draw()
    {
        var rows = _app.Resources;
        var lines = new List<string> { Row("RESOURCE", "STATE", "HEALTH", "URL") };
        foreach (var status in rows)
        {
            var health = status.ExitCode is int code && status.State is ResourceState.Exited or ResourceState.Failed
                ? $"exit code {code}, see {status.LogFile}"
                : status.Health ?? "";
            lines.Add(Row(status.Name, Colour(status.State), health, status.Url ?? ""));
        }
        if (_message is not null)
        {
            lines.Add("");
            lines.AddRange(_message.Split('\n'));
        }
        // Auto-wrap off while drawing: a line wider than the terminal is clipped, so the cursor-up count stays right.
        var text = new StringBuilder("\e[?7l");
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }
        text.Append("\e[?7h");
        Erase();
        _out.Write(text.ToString());
        _out.Flush();
        _drawnLines = lines.Count;
    }

    private static string Row(string name, string state, string health, string url) =>
        $"{name,-14} {state,-10} {Truncate(health, 34),-34} {url}";

    private static string Colour(ResourceState state)
    {
        var text = state.ToString();
        var colour = state switch
        {
            ResourceState.Healthy => "32",
            ResourceState.Running or ResourceState.Starting => "36",
            ResourceState.Unhealthy => "33",
            ResourceState.Failed or ResourceState.Exited => "31",
            _ => "0",
        };
        // Pad before colouring: escape sequences have no width.
        return $"\e[{colour}m{text,-10}\e[0m";
    }

    private static string Truncate(string value, int width) => value.Length <= width ? value : value[..(width - 1)] + "…";
}
