using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.ServiceDefaults;

/// <summary>
/// Health checks that fail while a service starts are expected and stay out of the error log; once the service has
/// served, or has had its time to start, a failing check is an error again. Degraded checks are never logged.
/// </summary>
public class StartupHealthLogTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Allows_ErrorWhileStarting_HeldBack()
    {
        var log = new StartupHealthLog(_time);

        log.Observe(Report(HealthStatus.Unhealthy));

        Assert.False(log.Allows(LogLevel.Error));
    }

    [Fact]
    public void Allows_DegradedCheckAfterStartup_HeldBack()
    {
        var log = new StartupHealthLog(_time);

        log.Observe(Report(HealthStatus.Healthy));

        // A Degraded check logs a Warning at every probe; /health and the component's own log say it already.
        Assert.False(log.Allows(LogLevel.Warning));
        Assert.False(log.Allows(LogLevel.Debug));
    }

    [Theory]
    [InlineData(HealthStatus.Healthy)]
    [InlineData(HealthStatus.Degraded)]
    public void Allows_ErrorAfterAServingReport_Passes(HealthStatus status)
    {
        var log = new StartupHealthLog(_time);

        log.Observe(Report(status));
        log.Observe(Report(HealthStatus.Unhealthy));

        Assert.True(log.Allows(LogLevel.Error));
    }

    [Fact]
    public void Allows_ErrorAfterGracePeriodWithoutServing_Passes()
    {
        var log = new StartupHealthLog(_time);

        _time.Advance(StartupHealthLog.GracePeriod);

        Assert.True(log.Allows(LogLevel.Error));
    }

    [Fact]
    public async Task Health_FailingCheckBeforeAndAfterServing_LoggedAsErrorOnlyAfter()
    {
        var healthy = false;
        var capture = new LogCapture();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.Logging.ClearProviders().AddProvider(capture.For("service"));
        builder.Services.AddHealthChecks().AddCheck("schema", () => healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not migrated yet"));
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };

        Assert.Equal("Unhealthy", await GetAsync(http));
        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Error);

        healthy = true;
        Assert.Equal("Healthy", await GetAsync(http));
        healthy = false;
        Assert.Equal("Unhealthy", await GetAsync(http));
        var error = Assert.Single(capture.Entries, e => e.Level >= LogLevel.Error);
        Assert.Contains("not migrated yet", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> GetAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
        return await response.Content.ReadAsStringAsync();
    }

    private static HealthReport Report(HealthStatus status) =>
        new(new Dictionary<string, HealthReportEntry> { ["check"] = new(status, null, TimeSpan.Zero, null, null) }, TimeSpan.Zero);
}
