using Scalelite.Core;
using Scalelite.RecordingSync;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddScaleliteCore();
builder.AddRecordingSync();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
