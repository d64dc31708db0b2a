using Microsoft.Extensions.DependencyInjection;
using Scalelite.Core.Meetings.History;

namespace Scalelite.Core.Meetings;

public static class MeetingServiceExtensions
{
    /// <summary>The meeting events (logs, traces, history) and the history's writer and reader; every service records history.</summary>
    public static IServiceCollection AddMeetingEvents(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddOptions<MeetingHistoryOptions>().BindConfiguration(MeetingHistoryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MeetingHistoryWriter>();
        services.AddSingleton<IMeetingHistory>(sp => sp.GetRequiredService<MeetingHistoryWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<MeetingHistoryWriter>());
        services.AddSingleton<MeetingEvents>();
        services.AddSingleton<MeetingHistoryQuery>();
        return services;
    }
}
