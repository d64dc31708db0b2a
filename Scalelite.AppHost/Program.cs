using Microsoft.Extensions.Configuration;
using Scalelite.AppHost;

if (AppHostFlags.AsksForHelp(args))
{
    Console.WriteLine(AppHostFlags.Usage);
    return 0;
}

if (AppHostFlags.Read(new ConfigurationBuilder().AddCommandLine(args).Build(), out var error) is not { } flags)
{
    Console.Error.WriteLine($"error: {error}\nRun with --help for the options.");
    return 2;
}

var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { Args = args, DisableDashboard = !flags.Dashboard });
LocalRun? local;   // null when publishing: state directory, ports, secret, container runtime
try
{
    local = LocalRun.Prepare(builder, flags);
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

var secret = builder.AddParameter("loadbalancer-secret", secret: true);
var database = builder.AddScaleliteDatabase("postgres", "scalelite", local);
var redis = builder.AddScaleliteRedis("redis", local);

var api = builder.AddScaleliteApi("api", local, flags.ApiReplicas, replica => replica
    .WithExternalHttpEndpoints()
    .WithReference(database).WaitFor(database)
    .WithReference(redis).WaitFor(redis)
    .WithScaleliteSettings(secret, local)
    .WithRecordingVolume(local?.State.Recordings));

var poller = builder.AddScaleliteService<Projects.Scalelite_Poller>("poller")
    .WithReference(database).WaitFor(database)
    .WithReference(redis).WaitFor(redis)
    .WithScaleliteSettings(secret, local);

var recordingSync = builder.AddScaleliteService<Projects.Scalelite_RecordingSync>("recordingsync")
    .WithReference(database).WaitFor(database)
    .WithReference(redis).WaitFor(redis)
    .WithScaleliteSettings(secret, local)
    .WithRecordingVolume(local?.State.Recordings);

if (local is { SimulatorPorts.Count: > 0 })
{
    var simulators = builder.AddSimulators("simulators", local.SimulatorPorts, local.State.SimulatorSecret, local.Spool);
    builder.AddSimulatorRegistration(simulators, api, secret, local.State);
}

if (local is not null)
{
    // Each simulated server's state, endpoints.json and the Ready line; at stop, the projects' processes first.
    builder.AddPoolReadiness(local, database, redis, poller, recordingSync);
}

builder.Build().Run();
OrchestratorExit.Wait(TimeSpan.FromSeconds(30));
return 0;
