using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Monitoring;
using Scalelite.Core.Monitoring.Canary;

namespace Scalelite.Tests.Core.Monitoring.Canary;

/// <summary>The <c>canary</c> condition from the kept results alone: severity by step, failures in a row, stale results.</summary>
public sealed class CanaryAlertCheckTests
{
    private const double Interval = 600;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero));
    private readonly CanaryResults _results = new();

    [Theory]
    [InlineData(CanaryProbe.Create, AlertSeverity.Critical)]
    [InlineData(CanaryProbe.Join, AlertSeverity.Critical)]
    [InlineData(CanaryProbe.GetMeetingInfo, AlertSeverity.Warning)]
    [InlineData(CanaryProbe.End, AlertSeverity.Warning)]
    public async Task EvaluateAsync_FailedStep_SeverityFollowsWhatTheNodeCannotDo(string step, AlertSeverity severity)
    {
        _results.Record([Failed("bbb-1", step, "notFound: We could not find a meeting with that meeting ID")]);

        var condition = Assert.Single(await Check().EvaluateAsync(CancellationToken.None));

        Assert.Equal("canary", condition.Alert);
        Assert.Equal("server:bbb-1", condition.Subject);
        Assert.Equal(severity, condition.Severity);
        Assert.Contains($"Canary {step} failed on bbb1.example.org (notFound: ", condition.Message, StringComparison.Ordinal);
        Assert.Contains("internalMeetingID internal-bbb-1", condition.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EvaluateAsync_FailuresInARow_ValueCountsThemUntilARunPasses()
    {
        _results.Record([Failed("bbb-1", CanaryProbe.Join), Passed("bbb-2")]);
        _results.Record([Failed("bbb-1", CanaryProbe.Join), Passed("bbb-2")]);
        _results.Record([Failed("bbb-1", CanaryProbe.Create), Passed("bbb-2")]);

        var condition = Assert.Single(await Check().EvaluateAsync(CancellationToken.None));
        Assert.Equal(3, condition.Value);
        Assert.Equal(1, condition.Threshold);

        _results.Record([Passed("bbb-1"), Passed("bbb-2")]);
        Assert.Empty(await Check().EvaluateAsync(CancellationToken.None));
        _results.Record([Failed("bbb-1", CanaryProbe.Join), Passed("bbb-2")]);
        Assert.Equal(1, Assert.Single(await Check().EvaluateAsync(CancellationToken.None)).Value);
    }

    [Fact]
    public async Task EvaluateAsync_FailureOlderThanThreeIntervals_IsNoLongerEvidence()
    {
        _results.Record([Failed("bbb-1", CanaryProbe.Create)]);

        _time.Advance(TimeSpan.FromSeconds(3 * Interval));
        Assert.Single(await Check().EvaluateAsync(CancellationToken.None));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await Check().EvaluateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EvaluateAsync_SeveralServersFailing_OneConditionEachInServerOrder()
    {
        _results.Record([Failed("bbb-3", CanaryProbe.End), Passed("bbb-2"), Failed("bbb-1", CanaryProbe.Create)]);

        var conditions = await Check().EvaluateAsync(CancellationToken.None);

        Assert.Equal(["server:bbb-1", "server:bbb-3"], conditions.Select(c => c.Subject));
    }

    private CanaryAlertCheck Check() => new(_results, Options.Create(new CanaryOptions { Interval = Interval }), _time);

    private CanaryResult Passed(string serverId) => Run(serverId, null, null);

    private CanaryResult Failed(string serverId, string step, string answer = "HTTP 500") => Run(serverId, step, answer);

    private CanaryResult Run(string serverId, string? failedStep, string? answer)
    {
        var steps = new List<CanaryStepResult>();
        foreach (var step in new[] { CanaryProbe.Create, CanaryProbe.Join, CanaryProbe.GetMeetingInfo, CanaryProbe.End })
        {
            var failed = step == failedStep;
            steps.Add(new CanaryStepResult(step, !failed, TimeSpan.FromMilliseconds(20), failed ? answer : null));
            if (failed)
            {
                break;
            }
        }

        var host = serverId.Replace("-", string.Empty, StringComparison.Ordinal) + ".example.org";
        return new CanaryResult(serverId, host, CanaryMeeting.Prefix + serverId + "-1", "internal-" + serverId, _time.GetUtcNow(), steps);
    }
}
