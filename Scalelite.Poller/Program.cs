using Scalelite.Core;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Monitoring.Canary;
using Scalelite.Poller.Leadership;
using Scalelite.Poller.Polling;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScaleliteCore();
builder.Services.AddPolling();
builder.Services.AddPollerLeadership();
builder.Services.AddHostedService<PollerService>();
builder.AddAlerting();
builder.Services.AddCanary();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
