using Scalelite.Core;
using Scalelite.Core.Monitoring;
using Scalelite.Poller.Polling;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScaleliteCore();
builder.Services.AddPolling();
builder.Services.AddHostedService<PollerService>();
builder.AddAlerting();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
