using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Scalelite.Core.Configuration;
using Scalelite.Core.Coordination;
using Scalelite.Core.Persistence;
using Scalelite.Poller.Polling;

namespace Scalelite.Poller.Leadership;

/// <summary>What this Poller instance does at the moment.</summary>
public enum PollerRole
{
    /// <summary>Another instance holds the lock, or nobody can be sure: this one does not poll.</summary>
    Follower,

    /// <summary>Holds the lock on its connection and polls.</summary>
    Leader,

    /// <summary>Was the leader, lost its connection and cannot reach PostgreSQL again: polls from memory.</summary>
    LeaderWithoutDatabase,
}

/// <summary>
/// Leader election among Poller instances: whoever holds a PostgreSQL session advisory lock, on a connection of its own,
/// polls; the others wait.
/// </summary>
/// <remarks>
/// <para>The lock lives as long as the session. A leader that stops, crashes or is killed loses its connection, and
/// PostgreSQL releases the lock as soon as it sees the socket close; each follower tries the lock once per poll
/// interval, so one takes over at its next tick, within two intervals of the leader's end. The lock connection is not
/// pooled (a pooled connection would keep the session, and the lock, after it is "closed") and is named
/// <c>scalelite-poller PID@HOST</c> in <c>pg_stat_activity</c>, so an operator can see who leads.</para>
/// <para>The leader watches its connection between cycles (<see cref="NpgsqlConnection.WaitAsync(TimeSpan, CancellationToken)"/>
/// returns at once when the server ends the session, and a <c>SELECT 1</c> with a timeout catches a silent network),
/// and the moment it breaks the token handed to the running cycle is cancelled: polling stops before the instance
/// knows anything else. At the next tick it reconnects and tries the lock again. When the lock is taken, it is a
/// follower from then on.</para>
/// <para>The PostgreSQL-outage rule: when the leader cannot reach PostgreSQL at all, nobody else can take the lock
/// either, and a pool without a poller would keep routing to dead servers for the whole outage. So a leader that cannot
/// reconnect keeps polling from memory (<see cref="PollerRole.LeaderWithoutDatabase"/>; the cycle's own outage handling
/// is <see cref="ServerRecords"/>'s) and tries the lock again at every tick; an instance that never led does not start
/// polling during an outage. When PostgreSQL answers again, whoever takes the lock first leads, and the other stops at
/// its next tick. The price: if only this instance lost PostgreSQL (a partition), another takes the lock and both poll
/// until this one reaches PostgreSQL again; two pollers are harmless to correctness (each cycle is idempotent), only
/// twice the probes.</para>
/// </remarks>
public sealed partial class PollerLeadership : IHealthCheck, IPoolLeadership, IAsyncDisposable
{
    /// <summary>The advisory lock's key (the migrations use another).</summary>
    public const long LockKey = 0x5CA1E11F;

    /// <summary>The name of the health check that carries the role.</summary>
    public const string HealthCheckName = "poller-leadership";

    private readonly string _connectionString;
    private readonly TimeSpan _watchEvery;
    private readonly TimeProvider _time;
    private readonly ILogger<PollerLeadership> _logger;
    private NpgsqlConnection? _connection;
    private CancellationTokenSource _term = new();
    private Task _watch = Task.CompletedTask;
    private volatile PollerRole _role = PollerRole.Follower;
    private DateTimeOffset _since;

    public PollerLeadership(IConfiguration configuration, IOptions<PollerOptions> options, TimeProvider time, ILogger<PollerLeadership> logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString(ConnectionStrings.Postgres))
        {
            Pooling = false,
            ApplicationName = $"scalelite-poller {Environment.ProcessId}@{Environment.MachineName}",
        };
        // A tick must not wait long on a PostgreSQL that does not answer: the outage rule decides then.
        builder.Timeout = Math.Min(builder.Timeout, 5);
        _connectionString = builder.ConnectionString;
        _watchEvery = TimeSpan.FromSeconds(Math.Clamp(options.Value.Interval / 2, 0.05, 5));
        _time = time;
        _logger = logger;
        _since = time.GetUtcNow();
        _term.Cancel();
        PollCycle.Meter.CreateObservableGauge(
            "scalelite.poller.leader", () => _role == PollerRole.Follower ? 0 : 1, description: "1 while this Poller instance polls (leads), 0 while it follows.");
    }

    public PollerRole Role => _role;

    /// <inheritdoc/>
    public bool IsLeading => _role != PollerRole.Follower;

    /// <summary>
    /// Called before each cycle: confirms or takes the lock. Returns a token that is cancelled the moment leadership is
    /// lost, or null when this instance must not poll.
    /// </summary>
    public async Task<CancellationToken?> ConfirmAsync(CancellationToken ct)
    {
        if (_role == PollerRole.Leader && !_term.IsCancellationRequested)
        {
            return _term.Token;
        }

        await DropConnectionAsync();
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection);
            if (await command.ExecuteScalarAsync(ct) is not true)
            {
                await connection.DisposeAsync();
                Become(PollerRole.Follower, "another instance holds the lock");
                return null;
            }
        }
        catch (Exception e) when (DatabaseOutage.IsOutage(e) && !ct.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            // Nobody can hold the lock while PostgreSQL does not answer: a leader goes on from memory, a follower waits.
            Become(_role == PollerRole.Follower ? PollerRole.Follower : PollerRole.LeaderWithoutDatabase, "PostgreSQL does not answer: " + e.Message);
            return _role == PollerRole.Follower ? null : (_term = new CancellationTokenSource()).Token;
        }

        _connection = connection;
        _term = new CancellationTokenSource();
        _watch = WatchAsync(connection, _term);
        Become(PollerRole.Leader, "lock taken");
        return _term.Token;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var role = _role;
        var data = new Dictionary<string, object>
        {
            ["role"] = Describe(role),
            ["since"] = _since.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
        // A follower is ready: it is what makes a failover possible.
        return Task.FromResult(HealthCheckResult.Healthy(Describe(role), data));
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the session releases the lock: a follower takes over at its next tick.
        await DropConnectionAsync();
        _role = PollerRole.Follower;
    }

    private static string Describe(PollerRole role) => role switch
    {
        PollerRole.Leader => "leader",
        PollerRole.LeaderWithoutDatabase => "leader-without-database",
        _ => "follower",
    };

    private async Task WatchAsync(NpgsqlConnection connection, CancellationTokenSource term)
    {
        try
        {
            while (!term.IsCancellationRequested)
            {
                // Returns early (throwing) when the server ends the session; otherwise a ping catches a silent network.
                await connection.WaitAsync(_watchEvery, term.Token);
                await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = (int)Math.Max(1, Math.Ceiling(_watchEvery.TotalSeconds * 2)) };
                await ping.ExecuteScalarAsync(term.Token);
            }
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
            // Dropped on purpose.
        }
        catch (Exception e)
        {
            Log.ConnectionLost(_logger, e.GetType().Name, e.Message);
            await term.CancelAsync();
        }
    }

    private async Task DropConnectionAsync()
    {
        if (!_term.IsCancellationRequested)
        {
            await _term.CancelAsync();
        }

        await _watch;
        _term.Dispose();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    private void Become(PollerRole role, string reason)
    {
        if (role == _role)
        {
            return;
        }

        var previous = _role;
        _role = role;
        _since = _time.GetUtcNow();
        Log.RoleChanged(_logger, Describe(previous), Describe(role), reason);
    }

    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Poller leadership: {Previous} -> {Role} ({Reason})")]
        public static partial void RoleChanged(ILogger logger, string previous, string role, string reason);

        [LoggerMessage(LogLevel.Warning, "Poller leadership: lock connection lost ({Error}: {Message}); polling stops until the lock is confirmed")]
        public static partial void ConnectionLost(ILogger logger, string error, string message);
    }
}
