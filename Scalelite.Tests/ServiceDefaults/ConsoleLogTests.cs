using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Scalelite.Tests.ServiceDefaults;

/// <summary>
/// The services' console log, as the AppHost, journald or <c>kubectl logs</c> read it: line by line, an entry starting
/// at the margin with its level. Nothing a client sends may start a line of its own or make the log binary.
/// </summary>
public class ConsoleLogTests
{
    private const string Forged = "m1\r\ninfo: Scalelite.Api.Forged[0]\n\0\u001b[2J\u0085\u2028";

    [Fact]
    public void ConsoleLog_MessageWithControlCharacters_StaysOneLineWithThemEscaped()
    {
        var output = Write($"Meeting :{Forged} placed on server s1", exception: null);

        var lines = ReadLines(output);
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("info: Scalelite.Core.Pool.Placement.MeetingPlacement[1]", lines[0], StringComparison.Ordinal);
        Assert.StartsWith(" ", lines[1], StringComparison.Ordinal);
        Assert.Contains(@"m1\r\ninfo: Scalelite.Api.Forged[0]\n\0", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain(output, c => char.IsControl(c) && c != '\n');
    }

    [Fact]
    public void ConsoleLog_ExceptionWithControlCharacters_FollowsOnIndentedLines()
    {
        var output = Write("Create failed", Thrown(new InvalidOperationException($"bad meeting {Forged}")));

        var lines = ReadLines(output);
        Assert.StartsWith("fail: ", lines[0], StringComparison.Ordinal);
        Assert.All(lines.Skip(1), line => Assert.StartsWith(" ", line, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(@"      System.InvalidOperationException: bad meeting m1\r\ninfo: Scalelite.Api.Forged[0]\n\0", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("info:", StringComparison.Ordinal));
        Assert.DoesNotContain(output, c => char.IsControl(c) && c != '\n');
    }

    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Formats one entry with the console formatter the services use.</summary>
    private static string Write(string message, Exception? exception)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.AddServiceDefaults();
        using var host = builder.Build();
        var name = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName ?? ConsoleFormatterNames.Simple;
        var formatter = host.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
        var entry = new LogEntry<string>(
            exception is null ? LogLevel.Information : LogLevel.Error, "Scalelite.Core.Pool.Placement.MeetingPlacement", new EventId(1), message, exception, (s, _) => s);
        using var writer = new StringWriter();
        formatter.Write(in entry, new LoggerExternalScopeProvider(), writer);
        return writer.ToString();
    }

    /// <summary>Splits as a line reader does (<c>\r\n</c>, <c>\n</c>, <c>\r</c>), plus the separators other readers honour.</summary>
    private static List<string> ReadLines(string output) =>
        [.. output.Split(["\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"], StringSplitOptions.None).Where(l => l.Length > 0)];
}
