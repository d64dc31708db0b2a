using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Scalelite.Tests.Support;

/// <summary>One entry a service logged: which service, its category, level, message and exception.</summary>
public sealed record CapturedLog(string Service, string Category, LogLevel Level, string Message, Exception? Exception)
{
    /// <summary>The lines the entry takes in a plain text log: its message, and the exception with its stack trace.</summary>
    public int Lines => Message.Split('\n').Length + (Exception is null ? 0 : Exception.ToString().Split('\n').Length);
}

/// <summary>Collects what services log (after their configured filters), for tests that assert on logging.</summary>
public sealed class LogCapture
{
    private readonly ConcurrentQueue<CapturedLog> _entries = new();

    public IReadOnlyList<CapturedLog> Entries => [.. _entries];

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

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._entries.Enqueue(new CapturedLog(service, category, logLevel, formatter(state, exception), exception));
    }
}
