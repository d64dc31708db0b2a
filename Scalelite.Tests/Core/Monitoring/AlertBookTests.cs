using Scalelite.Core.Monitoring;

namespace Scalelite.Tests.Core.Monitoring;

public class AlertBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hysteresis = TimeSpan.FromMinutes(2);
    private static readonly HashSet<string> None = [];

    private static AlertCondition Condition(double value = 5, AlertSeverity severity = AlertSeverity.Warning, string subject = "server:a") =>
        new("server-offline", subject, severity, value, 2, "look at a");

    [Fact]
    public void Apply_FirstTrue_RaisesOnceWithSince()
    {
        var book = new AlertBook();
        var first = book.Apply(T0, [Condition()], None, Hysteresis);
        var second = book.Apply(T0.AddSeconds(15), [Condition(value: 7)], None, Hysteresis);

        Assert.Equal(AlertChangeKind.Raised, Assert.Single(first).Kind);
        Assert.Empty(second);
        var alert = Assert.Single(book.Active);
        Assert.Equal(T0, alert.Since);
        Assert.Equal(7, alert.Value);
    }

    [Fact]
    public void Apply_FalseForLessThanHysteresis_StaysActive()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition()], None, Hysteresis);

        Assert.Empty(book.Apply(T0.AddSeconds(119), [], None, Hysteresis));
        Assert.Single(book.Active);
    }

    [Fact]
    public void Apply_FalseForTheHysteresis_ClearsOnce()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition()], None, Hysteresis);

        var cleared = book.Apply(T0.AddSeconds(120), [], None, Hysteresis);
        var after = book.Apply(T0.AddSeconds(135), [], None, Hysteresis);

        Assert.Equal(AlertChangeKind.Cleared, Assert.Single(cleared).Kind);
        Assert.Empty(after);
        Assert.Empty(book.Active);
    }

    [Fact]
    public void Apply_TrueAgainWithinHysteresis_KeepsTheAlertAndItsSince()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition()], None, Hysteresis);
        book.Apply(T0.AddSeconds(60), [], None, Hysteresis);

        var changes = book.Apply(T0.AddSeconds(90), [Condition()], None, Hysteresis);
        book.Apply(T0.AddSeconds(200), [], None, Hysteresis);

        Assert.Empty(changes);
        Assert.Equal(T0, Assert.Single(book.Active).Since);
    }

    [Fact]
    public void Apply_CheckFailed_KeepsItsAlertsPastTheHysteresis()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition()], None, Hysteresis);

        var changes = book.Apply(T0.AddHours(1), [], new HashSet<string> { "server-offline" }, Hysteresis);

        Assert.Empty(changes);
        Assert.Single(book.Active);
    }

    [Fact]
    public void Apply_SeverityRises_ReportsTheChange()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition()], None, Hysteresis);

        var change = Assert.Single(book.Apply(T0.AddSeconds(15), [Condition(severity: AlertSeverity.Critical)], None, Hysteresis));

        Assert.Equal(AlertChangeKind.SeverityChanged, change.Kind);
        Assert.Equal(AlertSeverity.Critical, Assert.Single(book.Active).Severity);
    }

    [Fact]
    public void Apply_TwoFindingsForOneSubject_TheWorseStands()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition(severity: AlertSeverity.Critical, value: 9), Condition(value: 1)], None, Hysteresis);

        var alert = Assert.Single(book.Active);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(9, alert.Value);
    }

    [Fact]
    public void Active_CriticalFirst()
    {
        var book = new AlertBook();
        book.Apply(T0, [Condition(subject: "server:a"), Condition(subject: "server:b", severity: AlertSeverity.Critical)], None, Hysteresis);

        Assert.Equal(["server:b", "server:a"], book.Active.Select(a => a.Subject));
    }
}
