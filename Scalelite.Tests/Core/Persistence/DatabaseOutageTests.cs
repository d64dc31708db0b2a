using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Scalelite.Core.Persistence;

namespace Scalelite.Tests.Core.Persistence;

public sealed class DatabaseOutageTests
{
    public static TheoryData<Exception, bool> Failures => new()
    {
        { new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), true },
        { new RetryLimitExceededException("retries", new PostgresException("terminating connection", "FATAL", "FATAL", "57P01")), true },
        { new DbUpdateException("save", new PostgresException("too many clients", "FATAL", "FATAL", "53300")), true },
        { new InvalidOperationException("transient", new TimeoutException()), true },
        { new DbUpdateException("save", new PostgresException("value too long", "ERROR", "ERROR", "22001")), false },
        { new DbUpdateException("save", new PostgresException("duplicate key", "ERROR", "ERROR", "23505")), false },
        { new NpgsqlOperationInProgressException(new NpgsqlCommand()), false },
        { new InvalidOperationException("a bug"), false },
        { new OperationCanceledException(), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void IsOutage_TellsAnUnreachableDatabaseFromAFailedQuery(Exception failure, bool outage) =>
        Assert.Equal(outage, DatabaseOutage.IsOutage(failure));
}
