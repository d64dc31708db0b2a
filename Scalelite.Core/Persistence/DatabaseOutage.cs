using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Scalelite.Core.Persistence;

/// <summary>Tells a PostgreSQL outage (nothing answers, or the server refuses work for now) from a failure of the query itself.</summary>
/// <remarks>
/// EF Core wraps the driver's exception (a <c>RetryLimitExceededException</c>, a <c>DbUpdateException</c>, an
/// <c>InvalidOperationException</c> from the execution strategy), so the whole chain is searched. An outage is an
/// <see cref="NpgsqlException"/> that carries no server answer (refused, reset, timed out), a socket or timeout
/// failure, or a server answer of SQLSTATE class 08 (connection exception), 53 (insufficient resources, e.g. too many
/// connections) or 57P (shutting down, starting up). Anything else (a constraint, a bad query) is a fault of the
/// call, which the caller must not retry or park as if the database would take it later.
/// </remarks>
public static class DatabaseOutage
{
    public static bool IsOutage(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NpgsqlOperationInProgressException:
                    // Two commands on one connection at once: a bug of ours, not the database's.
                    return false;
                case PostgresException answered:
                    return answered.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || answered.SqlState.StartsWith("53", StringComparison.Ordinal)
                        || answered.SqlState.StartsWith("57P", StringComparison.Ordinal);
                case NpgsqlException or SocketException or TimeoutException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Lowers EF Core's own error logs of a failed connection, command, query or save to Debug: each carries the full
    /// stack trace, once per failed call, which during an outage is thousands of lines a minute that tell nothing new.
    /// </summary>
    /// <remarks>
    /// For a service whose code logs what it meets (<c>ConfigureDbContext</c> in its own wiring): the failure still
    /// reaches that code as an exception, which logs an outage once and then at an interval
    /// (<see cref="Diagnostics.OutageLog"/>) and any other failure in full (the API's exception handler, the poller's
    /// loop). A service whose code logs only the message keeps EF Core's log, which has the details.
    /// </remarks>
    public static DbContextOptionsBuilder LogFailuresAtCaller(this DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Log(
            (RelationalEventId.ConnectionError, LogLevel.Debug),
            (RelationalEventId.CommandError, LogLevel.Debug),
            (RelationalEventId.TransactionError, LogLevel.Debug),
            (CoreEventId.QueryIterationFailed, LogLevel.Debug),
            (CoreEventId.SaveChangesFailed, LogLevel.Debug)));
}
