using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The services' console log: the layout of .NET's simple formatter, with every control character a message, a
/// scope or an exception carries written as an escape.
/// </summary>
/// <remarks>
/// Console logs are read line by line (the AppHost's log files, journald, <c>kubectl logs</c>), and an entry begins
/// where a line begins with its level. Messages carry what clients send: meeting IDs, paths, a server's error text.
/// The simple formatter indents a message's line feeds but passes carriage returns, NUL and the other control
/// characters through, so a <c>%0D</c> in a request began a line that a reader took for an entry of its own, and a
/// NUL made the log file binary. Here the message stays on the entry's second line with its control characters
/// (C0, DEL, C1, U+2028, U+2029) escaped (<c>\r</c>, <c>\n</c>, <c>\t</c>, <c>\0</c>, <c>\u001B</c>); an exception
/// follows on lines of its own, each indented, its stack trace line by line but each message on one line. Only an
/// entry's first line starts at the margin, and no text from a request gets a line of its own. The options are the
/// simple formatter's (<c>Logging:Console:FormatterOptions</c>: <c>TimestampFormat</c>, <c>UseUtcTimestamp</c>,
/// <c>IncludeScopes</c>, <c>SingleLine</c>); colours are never written. An operator who chooses another formatter
/// (<c>Logging__Console__FormatterName=json</c>) keeps it: JSON escapes control characters as well.
/// </remarks>
internal sealed class EscapingConsoleFormatter : ConsoleFormatter, IDisposable
{
    public const string FormatterName = "scalelite";
    private const string Padding = "      ";

    private readonly IDisposable? _reload;
    private SimpleConsoleFormatterOptions _options;

    public EscapingConsoleFormatter(IOptionsMonitor<SimpleConsoleFormatterOptions> options)
        : base(FormatterName)
    {
        _options = options.CurrentValue;
        _reload = options.OnChange(o => _options = o);
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        var options = _options;
        var line = new StringBuilder(message.Length + 96);
        if (options.TimestampFormat is { } format)
        {
            var now = options.UseUtcTimestamp ? DateTimeOffset.UtcNow : DateTimeOffset.Now;
            AppendEscaped(line, now.ToString(format, CultureInfo.InvariantCulture));
        }

        line.Append(Level(logEntry.LogLevel)).Append(": ");
        AppendEscaped(line, logEntry.Category);
        line.Append('[').Append(logEntry.EventId.Id.ToString(CultureInfo.InvariantCulture)).Append(']');
        var separator = options.SingleLine ? " " : Environment.NewLine + Padding;
        if (options.IncludeScopes && scopeProvider is not null)
        {
            scopeProvider.ForEachScope(
                (scope, state) =>
                {
                    state.Append(separator).Append("=> ");
                    AppendEscaped(state, Convert.ToString(scope, CultureInfo.InvariantCulture));
                },
                line);
        }

        if (!string.IsNullOrEmpty(message))
        {
            line.Append(separator);
            AppendEscaped(line, message);
        }

        if (logEntry.Exception is { } exception)
        {
            if (options.SingleLine)
            {
                line.Append(' ');
                AppendEscaped(line, exception.ToString());
            }
            else
            {
                foreach (var text in ExceptionText(exception).ReplaceLineEndings("\n").Split('\n'))
                {
                    line.Append(Environment.NewLine).Append(Padding);
                    AppendEscaped(line, text);
                }
            }
        }

        line.Append(Environment.NewLine);
        textWriter.Write(line);
    }

    public void Dispose() => _reload?.Dispose();

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    /// <summary>
    /// The exception as <see cref="Exception.ToString"/> writes it, each message of the chain on one line: the stack
    /// traces keep their lines, but a message, which may quote a client, does not get to start one.
    /// </summary>
    private static string ExceptionText(Exception exception)
    {
        var text = exception.ToString();
        var pending = new Stack<Exception>([exception]);
        for (var seen = 0; pending.TryPop(out var current) && seen < 64; seen++)
        {
            if (current.Message.ReplaceLineEndings(string.Empty).Length != current.Message.Length)
            {
                var escaped = new StringBuilder(current.Message.Length + 16);
                AppendEscaped(escaped, current.Message);
                text = text.Replace(current.Message, escaped.ToString(), StringComparison.Ordinal);
            }

            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }

        return text;
    }

    internal static void AppendEscaped(StringBuilder builder, string? text)
    {
        foreach (var c in text.AsSpan())
        {
            if (!char.IsControl(c) && c is not ('\u2028' or '\u2029'))
            {
                builder.Append(c);
                continue;
            }

            _ = c switch
            {
                '\r' => builder.Append(@"\r"),
                '\n' => builder.Append(@"\n"),
                '\t' => builder.Append(@"\t"),
                '\0' => builder.Append(@"\0"),
                _ => builder.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture)),
            };
        }
    }
}

public static class EscapingConsoleLogExtensions
{
    /// <summary>
    /// Makes <see cref="EscapingConsoleFormatter"/> the console log's format, unless the configuration names another
    /// (<c>Logging:Console:FormatterName</c>).
    /// </summary>
    public static TBuilder AddEscapingConsoleLog<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddConsoleFormatter<EscapingConsoleFormatter, SimpleConsoleFormatterOptions>();
        if (string.IsNullOrEmpty(builder.Configuration["Logging:Console:FormatterName"]))
        {
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = EscapingConsoleFormatter.FormatterName);
        }

        return builder;
    }
}
