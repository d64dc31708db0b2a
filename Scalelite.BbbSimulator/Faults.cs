using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Scalelite.BbbSimulator;

/// <summary>How a simulated server answers its BBB API (control routes are never affected).</summary>
public enum FaultMode
{
    /// <summary>Answers normally.</summary>
    Ok,

    /// <summary>Drops the connection without an answer, as close to "connection refused" as HTTP allows.</summary>
    Down,

    /// <summary>Never answers until the mode changes or the host stops.</summary>
    Hang,

    /// <summary>Answers normally after a delay.</summary>
    Slow,

    /// <summary>HTTP 500 with a plain-text body.</summary>
    Error,

    /// <summary>HTTP 200 with a body that is not well-formed XML.</summary>
    Garbage,
}

/// <summary>An immutable fault setting; replaced as a whole so readers never see a torn mode/delay/calls triple.</summary>
[SuppressMessage("Design", "CA1001", Justification = "The source has no timer, so it holds nothing to release; disposing it would race with requests still linking to its token.")]
internal sealed class FaultState
{
    private readonly CancellationTokenSource _changed = new();

    public FaultState(FaultMode mode, TimeSpan delay, IReadOnlySet<string>? calls = null)
    {
        Mode = mode;
        Delay = delay;
        Calls = calls;
    }

    public FaultMode Mode { get; }

    public TimeSpan Delay { get; }

    /// <summary>The BBB calls the fault applies to (<c>index</c> for the API's index); null for every call.</summary>
    public IReadOnlySet<string>? Calls { get; }

    public bool AppliesTo(string call) => Calls is null || Calls.Contains(call);

    /// <summary>Cancelled when this state is replaced, which releases requests parked by hang/slow.</summary>
    public CancellationToken Changed => _changed.Token;

    public void Retire() => _changed.Cancel();
}

internal static class Faults
{
    private static readonly byte[] ErrorBody = Encoding.UTF8.GetBytes("Internal Server Error\n");

    // Looks like the start of a real answer, so a client that only sniffs the first bytes is caught too.
    private static readonly byte[] GarbageBody = Encoding.UTF8.GetBytes("<response><returncode>SUCC\u0000 not xml {]");

    public static bool TryParse(string? value, out FaultMode mode)
    {
        mode = FaultMode.Ok;
        return value is not null
            && !int.TryParse(value, out _)
            && Enum.TryParse(value, ignoreCase: true, out mode)
            && Enum.IsDefined(mode);
    }

    public static string Name(FaultMode mode) => mode switch
    {
        FaultMode.Ok => "ok",
        FaultMode.Down => "down",
        FaultMode.Hang => "hang",
        FaultMode.Slow => "slow",
        FaultMode.Error => "error",
        FaultMode.Garbage => "garbage",
        _ => mode.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Applies the server's fault mode to a BBB API request for <paramref name="call"/>. Returns true when the request
    /// should be answered normally; false when the fault already produced the outcome.
    /// </summary>
    /// <remarks>
    /// hang and slow park the request on a token that fires when the mode changes, so switching back to
    /// ok releases them at once (they are then answered under the new mode), and on the host's stop token,
    /// so shutdown never waits for a parked request.
    /// </remarks>
    public static async ValueTask<bool> ApplyAsync(HttpContext context, SimulatedServer server, string call, CancellationToken stopping)
    {
        while (true)
        {
            var fault = server.FaultState;
            switch (fault.AppliesTo(call) ? fault.Mode : FaultMode.Ok)
            {
                case FaultMode.Ok:
                    return true;
                case FaultMode.Down:
                    context.Abort();
                    return false;
                case FaultMode.Error:
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.Body.WriteAsync(ErrorBody, context.RequestAborted);
                    return false;
                case FaultMode.Garbage:
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    context.Response.ContentType = "text/xml; charset=utf-8";
                    await context.Response.Body.WriteAsync(GarbageBody, context.RequestAborted);
                    return false;
                case FaultMode.Hang:
                case FaultMode.Slow:
                    var delay = fault.Mode == FaultMode.Hang ? Timeout.InfiniteTimeSpan : fault.Delay;
                    using (var wait = CancellationTokenSource.CreateLinkedTokenSource(fault.Changed, context.RequestAborted, stopping))
                    {
                        try
                        {
                            await Task.Delay(delay, server.TimeProvider, wait.Token);
                            return true;
                        }
                        catch (OperationCanceledException) when (!stopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
                        {
                            // The mode changed: answer under the new one.
                            continue;
                        }
                        catch (OperationCanceledException)
                        {
                            context.Abort();
                            return false;
                        }
                    }

                default:
                    return true;
            }
        }
    }
}
