using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Scalelite.Tests.Support;

/// <summary>One entry a service logged: which service, its category, level, message and exception.</summary>
public sealed record CapturedLog(string Service, string Category, LogLevel Level, string Message, Exception? Exception)
{
    /// <summary>The lines the entry takes in a plain text log: its message, and the exception with its stack trace.</summary>
    public int Lines => Message.Split('\n').Length + (Exception is null ? 0 : Exception.ToString().Split('\n').Length);
}

/// <summary>Collects what services log (after their configured filters), for tests that assert on logging.</summary>
/// <param name="console">Also write each entry as the services' console log does (<see cref="ConsoleText"/>).</param>
public sealed class LogCapture(bool console = false)
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();
    private readonly ConcurrentQueue<string> _console = new();
    private readonly ConsoleFormatter? _formatter = console ? ServicesConsoleFormatter() : null;

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

    /// <summary>The console log's text, entry after entry, as an operator would <c>grep</c> it (with <c>console: true</c>).</summary>
    public string ConsoleText => string.Concat(_console);

    /// <summary>The console formatter <c>AddServiceDefaults</c> configures (the escaping one, unless configured otherwise).</summary>
    private static ConsoleFormatter ServicesConsoleFormatter()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.AddServiceDefaults();
        var host = builder.Build();
        var name = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName ?? ConsoleFormatterNames.Simple;
        return host.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
    }

    /// <summary>A provider that files every entry under <paramref name="service"/>.</summary>
    public ILoggerProvider For(string service) => new Provider(this, service);

    /// <summary>Forgets what was captured so far.</summary>
    public void Clear() => _entries.Clear();

    private sealed class Provider(LogCapture capture, string service) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(capture, service, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(LogCapture capture, string service, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            capture._entries.Enqueue(new CapturedLog(service, category, logLevel, formatter(state, exception), exception));
            if (capture._formatter is { } console)
            {
                using var writer = new StringWriter();
                console.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), null, writer);
                capture._console.Enqueue(writer.ToString());
            }
        }
    }
}
