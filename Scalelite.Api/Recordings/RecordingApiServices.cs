using Npgsql;
using Scalelite.Api.Apis;
using Scalelite.Core.Configuration;
using Scalelite.Core.Recordings;

namespace Scalelite.Api.Recordings;

public static class RecordingApiServices
{
    /// <summary>The recording API's services: options, the index reader, the volume, playback protection.</summary>
    public static IHostApplicationBuilder AddRecordingApi(this IHostApplicationBuilder builder)
    {
        var postgres = builder.Configuration.GetConnectionString(ConnectionStrings.Postgres)
            ?? throw new InvalidOperationException("No PostgreSQL connection: set ConnectionStrings__scalelite or DATABASE_URL.");

        // getRecordings reads with plain Npgsql (streamed pages, batched details) rather than through EF Core.
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
        builder.Services.AddSingleton<RecordingStore>();
        builder.Services.AddSingleton<RecordingFiles>();
        builder.Services.AddSingleton<RecordingCommands>();
        builder.Services.AddSingleton<PlaybackProtection>();
        builder.Services.AddSingleton<RecordingServices>();
        return builder;
    }
}
