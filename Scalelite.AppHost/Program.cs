using System.Runtime.InteropServices;
using Scalelite.AppHost;

var options = CommandLine.Parse(args, out var error);
if (options is null)
{
    if (error is null)
    {
        Console.WriteLine(CommandLine.Usage);
        return 0;
    }
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}

using var shutdown = new CancellationTokenSource();
void RequestShutdown(PosixSignalContext context)
{
    // Keep the process alive until everything it started is stopped.
    context.Cancel = true;
    shutdown.Cancel();
}
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, RequestShutdown);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, RequestShutdown);

var interactive = !Console.IsOutputRedirected;
var app = ScaleliteTopology.Build(options with { Notice = message => Console.Error.WriteLine(message) });
var exitCode = 0;
await using (var status = new StatusReporter(app, Console.Out, interactive))
{
    try
    {
        status.Print($"Starting Scalelite (state in {app.State.Root}, logs in {app.State.Logs}) ...");
        await app.StartAsync(shutdown.Token);
        var endpoints = app.Endpoints!;
        status.Announce($"Started. Waiting for {app.SimulatorCount} simulator(s) to be reported online ...");
        try
        {
            await app.WaitForSimulatorsOnlineAsync(TimeSpan.FromSeconds(60), shutdown.Token);
            status.Announce(
                $"Ready: {app.SimulatorsOnline}/{app.SimulatorCount} simulators online. API {endpoints.Api.Url} secret {endpoints.Api.Secret}\n" +
                $"(endpoints in {app.State.EndpointsFile}). Press Ctrl-C to stop.");
        }
        catch (TimeoutException ex)
        {
            status.Announce($"Running, but not ready: {ex.Message}\nAPI {endpoints.Api.Url} secret {endpoints.Api.Secret}. Press Ctrl-C to stop.");
        }
        await Task.Delay(Timeout.Infinite, shutdown.Token);
    }
    catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
    {
    }
    catch (Exception ex)
    {
        status.Print($"error: {ex.Message}");
        exitCode = 1;
    }
    status.Print("Stopping ...");
    await app.DisposeAsync();
}
Console.WriteLine(exitCode == 0 ? "Stopped." : "Stopped after an error.");
return exitCode;
