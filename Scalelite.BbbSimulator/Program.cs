using System.Runtime.InteropServices;
using Scalelite.BbbSimulator;

CommandLine commandLine;
try
{
    commandLine = CommandLine.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(CommandLine.Usage);
    return 2;
}

if (commandLine.ShowHelp)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

BbbSimulatorHost host;
try
{
    host = await BbbSimulatorHost.StartAsync(commandLine.Options);
}
catch (Exception e) when (e is IOException or ArgumentException)
{
    Console.Error.WriteLine($"Could not start: {e.Message}");
    return 1;
}

await using (host)
{
    foreach (var server in host.Servers)
    {
        Console.WriteLine($"{server.Id} {server.ApiUrl} secret={server.Secret} control={server.ControlUrl}");
    }

    if (commandLine.ManifestPath is { } manifest)
    {
        Manifest.Write(manifest, host.Servers);
    }

    await stop.Task;
}

return 0;

void Stop(PosixSignalContext context)
{
    // Keep the runtime from killing the process: the listeners are closed in order instead.
    context.Cancel = true;
    stop.TrySetResult();
}
