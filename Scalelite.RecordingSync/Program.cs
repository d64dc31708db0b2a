using Scalelite.Core;

// The recording importer arrives with the recordings work; until then this host applies migrations
// and answers its health endpoints, so the topology is complete.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScaleliteCore();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
