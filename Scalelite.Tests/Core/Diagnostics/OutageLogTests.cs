using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Scalelite.Core.Diagnostics;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Core.Diagnostics;

public sealed class OutageLogTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly LogCapture _logs = new();

    private OutageLog Create() => new(_logs.For("test").CreateLogger("outage"), "PostgreSQL", _time, TimeSpan.FromSeconds(60));

    [Fact]
    public void Failed_ManyTimesWithinTheInterval_LogsOnceWithoutTheStackTrace()
    {
        var outage = Create();
        for (var i = 0; i < 500; i++)
        {
            outage.Failed(Failure());
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var entry = Assert.Single(_logs.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Null(entry.Exception);
        Assert.Contains("PostgreSQL is unavailable", entry.Message, StringComparison.Ordinal);
        Assert.Contains("SocketException: Connection refused", entry.Message, StringComparison.Ordinal);
        Assert.True(outage.IsDown);
    }

    [Fact]
    public void Failed_OutageLastingPastTheInterval_SummarisesOncePerInterval()
    {
        var outage = Create();
        outage.Failed(Failure());
        for (var i = 0; i < 150; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            outage.Failed(Failure());
        }

        Assert.Equal(3, _logs.Entries.Count);
        Assert.Contains("unavailable for 120 s", _logs.Entries[^1].Message, StringComparison.Ordinal);
        Assert.Contains("60 failures since the last report", _logs.Entries[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Succeeded_AfterAnOutage_SaysSoOnce_AndNothingWhenThereWasNone()
    {
        var outage = Create();
        outage.Succeeded();
        Assert.Empty(_logs.Entries);

        outage.Failed(Failure());
        outage.Failed(Failure());
        _time.Advance(TimeSpan.FromSeconds(12));
        outage.Succeeded();
        outage.Succeeded();

        Assert.Equal(2, _logs.Entries.Count);
        Assert.Equal(LogLevel.Information, _logs.Entries[1].Level);
        Assert.Contains("answers again after 12.0 s unavailable (2 failures)", _logs.Entries[1].Message, StringComparison.Ordinal);
        Assert.False(outage.IsDown);
    }

    [Fact]
    public void Failed_AfterAQuietInterval_BeginsANewOutage()
    {
        var outage = Create();
        outage.Failed(Failure());
        _time.Advance(TimeSpan.FromMinutes(30));
        outage.Failed(Failure());

        Assert.Equal(2, _logs.Entries.Count);
        Assert.All(_logs.Entries, e => Assert.Contains("is unavailable", e.Message, StringComparison.Ordinal));
    }

    private static InvalidOperationException Failure() =>
        new("A transient failure.", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
}
