using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Scalelite.Api.Bbb;
using Scalelite.Core.Monitoring;

namespace Scalelite.Api.Monitoring;

/// <summary>
/// The BBB API's outcomes: calls by call, FAILED answers by call and messageKey, join outcomes. Counted in memory and
/// read by the metrics exporter when it collects (meter <c>Scalelite.Api</c>), and by <see cref="OutcomeFlusher"/>
/// for the pool-wide alert rates.
/// </summary>
/// <remarks>
/// Joins come by the thousand a second: counting one costs a single interlocked increment on a counter chosen without
/// a lookup (the call's slot is found with its handler), and nothing more is paid until something scrapes. A FAILED
/// answer also increments a per-messageKey counter; the keys seen per call are capped, so a backend that invents
/// messageKeys cannot make the label set grow without bound.
/// </remarks>
public sealed class ApiOutcomes
{
    public const string MeterName = "Scalelite.Api";

    /// <summary>The call label of requests for no known call.</summary>
    public const string OtherCall = "other";

    /// <summary>FAILED answers caused by the pool rather than by the request: the api-errors alert counts these.</summary>
    private static readonly FrozenSet<string> PoolCaused = new[] { "serverUnavailable", "internalError" }.ToFrozenSet(StringComparer.Ordinal);

    private const int MaxKeysPerCall = 32;

    private readonly FrozenDictionary<string, CallCounts> _calls;
    private long _apiErrors;
    private long _checksumErrors;
    private long _joinFailures;

    public ApiOutcomes(IMeterFactory meters, IEnumerable<string> calls)
    {
        _calls = calls.Append(OtherCall).Distinct(StringComparer.Ordinal).ToFrozenDictionary(c => c, c => new CallCounts(c), StringComparer.Ordinal);
        Join = _calls.GetValueOrDefault("join") ?? new CallCounts("join");
        var meter = meters.Create(MeterName);
        meter.CreateObservableCounter("scalelite.api.calls", Calls, "{call}", "BBB API calls answered, by call.");
        meter.CreateObservableCounter("scalelite.api.failures", Failures, "{answer}", "FAILED answers given, by call and messageKey.");
        meter.CreateObservableCounter("scalelite.api.join.outcomes", JoinOutcomes, "{join}",
            "Joins by outcome: redirected, answered (redirect=false), or the messageKey of the FAILED answer.");
    }

    /// <summary>The counters of one call; <see cref="For"/> finds them once, the hot path keeps them.</summary>
    public CallCounts For(string call) => _calls.GetValueOrDefault(call) ?? _calls[OtherCall];

    private CallCounts Join { get; }

    /// <summary>Counts one answer of <paramref name="call"/>.</summary>
    public void Count(CallCounts call, IResult result)
    {
        Interlocked.Increment(ref call.Calls);
        if (BbbResults.FailedKey(result) is not { } key)
        {
            if (ReferenceEquals(call, Join) && BbbResults.IsRedirect(result))
            {
                Interlocked.Increment(ref call.Redirected);
            }

            return;
        }

        Failed(call, key);
    }

    /// <summary>Counts a FAILED answer given outside a call's handler (unknown paths, the last-resort error handler).</summary>
    public void CountFailure(string call, string messageKey)
    {
        var counts = For(call);
        Interlocked.Increment(ref counts.Calls);
        Failed(counts, messageKey);
    }

    /// <summary>The bad outcomes counted since the last call, for the pool-wide rates (<see cref="OutcomeRates"/>).</summary>
    public IReadOnlyDictionary<string, long> TakeRates() => new Dictionary<string, long>(StringComparer.Ordinal)
    {
        [OutcomeRates.ApiErrors] = Interlocked.Exchange(ref _apiErrors, 0),
        [OutcomeRates.ChecksumErrors] = Interlocked.Exchange(ref _checksumErrors, 0),
        [OutcomeRates.JoinFailures] = Interlocked.Exchange(ref _joinFailures, 0),
    };

    /// <summary>Gives counts taken by <see cref="TakeRates"/> back, when they could not be written.</summary>
    public void Return(IReadOnlyDictionary<string, long> rates)
    {
        Interlocked.Add(ref _apiErrors, rates.GetValueOrDefault(OutcomeRates.ApiErrors));
        Interlocked.Add(ref _checksumErrors, rates.GetValueOrDefault(OutcomeRates.ChecksumErrors));
        Interlocked.Add(ref _joinFailures, rates.GetValueOrDefault(OutcomeRates.JoinFailures));
    }

    private void Failed(CallCounts call, string key)
    {
        var box = call.Failures.Count < MaxKeysPerCall || call.Failures.ContainsKey(key)
            ? call.Failures.GetOrAdd(key, static _ => new StrongBox<long>())
            : call.Failures.GetOrAdd(OtherCall, static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
        if (PoolCaused.Contains(key))
        {
            Interlocked.Increment(ref _apiErrors);
        }

        if (key == "checksumError")
        {
            Interlocked.Increment(ref _checksumErrors);
        }

        if (ReferenceEquals(call, Join))
        {
            Interlocked.Increment(ref _joinFailures);
        }
    }

    private IEnumerable<Measurement<long>> Calls() =>
        _calls.Values.Select(c => new Measurement<long>(Interlocked.Read(ref c.Calls), new KeyValuePair<string, object?>("call", c.Name)));

    private IEnumerable<Measurement<long>> Failures() =>
        _calls.Values.SelectMany(c => c.Failures.Select(f => new Measurement<long>(Interlocked.Read(ref f.Value.Value),
            new KeyValuePair<string, object?>("call", c.Name), new KeyValuePair<string, object?>("messageKey", f.Key))));

    private IEnumerable<Measurement<long>> JoinOutcomes()
    {
        var calls = Interlocked.Read(ref Join.Calls);
        var redirected = Interlocked.Read(ref Join.Redirected);
        long failed = 0;
        foreach (var (key, box) in Join.Failures)
        {
            var n = Interlocked.Read(ref box.Value);
            failed += n;
            yield return Outcome(key, n);
        }

        yield return Outcome("redirected", redirected);
        yield return Outcome("answered", Math.Max(0, calls - redirected - failed));
    }

    private static Measurement<long> Outcome(string outcome, long value) => new(value, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>One call's counters.</summary>
    public sealed class CallCounts(string name)
    {
        public string Name { get; } = name;

        internal long Calls;
        internal long Redirected;
        internal readonly ConcurrentDictionary<string, StrongBox<long>> Failures = new(StringComparer.Ordinal);
    }
}

/// <summary>Adds this replica's bad outcomes to the pool-wide rates in Redis every few seconds.</summary>
public sealed partial class OutcomeFlusher(ApiOutcomes outcomes, OutcomeRates rates, TimeProvider time, ILogger<OutcomeFlusher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly Core.Diagnostics.OutageLog _outage = new(logger, "Redis (alert rates)", time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await FlushAsync();
        }
    }

    public async Task FlushAsync()
    {
        var taken = outcomes.TakeRates();
        if (taken.Values.All(v => v == 0))
        {
            return;
        }

        try
        {
            await rates.AddAsync(taken);
            _outage.Succeeded();
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            outcomes.Return(taken);
            _outage.Failed(e);
        }
    }
}
