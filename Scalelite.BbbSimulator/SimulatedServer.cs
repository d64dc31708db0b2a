using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Scalelite.BbbSimulator;

/// <summary>A read-only view of one meeting, for tests and the stats route.</summary>
public sealed record SimulatedMeetingInfo(
    string MeetingId,
    string InternalMeetingId,
    string Name,
    bool Running,
    int ParticipantCount,
    int ModeratorCount,
    int VideoCount,
    long CreateTime,
    bool IsBreakout,
    IReadOnlyList<KeyValuePair<string, string>> Metadata);

/// <summary>A BBB API call as a simulated server received it (checksum valid): the call and its parameters, decoded, in order.</summary>
public sealed record ReceivedCall(string Call, IReadOnlyList<KeyValuePair<string, string>> Parameters)
{
    /// <summary>The first value of a parameter, or null.</summary>
    public string? this[string key] => Parameters.FirstOrDefault(p => p.Key == key).Value;
}

/// <summary>
/// One simulated BBB server: its identity, meetings, fault mode and call counters. Every member is
/// safe to use from any thread while the host runs.
/// </summary>
public sealed class SimulatedServer
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _checksumFailures = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedCall> _received = new();
    private readonly TimeSpan _defaultSlowDelay;
    private FaultState _fault;

    internal SimulatedServer(string id, string secret, string host, int port, TimeProvider timeProvider, TimeSpan defaultSlowDelay)
    {
        Id = id;
        Secret = secret;
        Host = host;
        Port = port;
        TimeProvider = timeProvider;
        _defaultSlowDelay = defaultSlowDelay;
        _fault = new FaultState(FaultMode.Ok, defaultSlowDelay);
    }

    /// <summary>The server's id, e.g. <c>sim-1</c>.</summary>
    public string Id { get; }

    /// <summary>The shared secret the BBB API checks checksums against.</summary>
    public string Secret { get; }

    /// <summary>The TCP port this server listens on.</summary>
    public int Port { get; internal set; }

    /// <summary>The recording spool <c>POST /sim/recordings/{meetingID}</c> writes to when the request names none.</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>The BBB API base URL, as an LMS or load balancer would be configured with it.</summary>
    public string ApiUrl => $"{BaseUrl}/bigbluebutton/api";

    /// <summary>The base URL of this server's control routes.</summary>
    public string ControlUrl => $"{BaseUrl}/sim";

    /// <summary>The current fault mode.</summary>
    public FaultMode FaultMode => _fault.Mode;

    /// <summary>The delay applied in <see cref="FaultMode.Slow"/>.</summary>
    public TimeSpan SlowDelay => _fault.Delay;

    /// <summary>The BBB calls the fault mode applies to; null when it applies to every call.</summary>
    public IReadOnlySet<string>? FaultCalls => _fault.Calls;

    /// <summary>Number of meetings currently known.</summary>
    public int MeetingCount => Meetings.Count;

    /// <summary>Total checksum failures over all calls.</summary>
    public long ChecksumFailureCount => _checksumFailures.Values.Sum(b => Interlocked.Read(ref b.Value));

    internal string Host { get; }

    internal TimeProvider TimeProvider { get; }

    internal FaultState FaultState => Volatile.Read(ref _fault);

    internal ConcurrentDictionary<string, Meeting> Meetings { get; } = new(StringComparer.Ordinal);

    private string BaseUrl => $"http://{Host}:{Port}";

    /// <summary>Sets the fault mode; requests parked by a previous hang/slow are released.</summary>
    /// <param name="mode">The new mode.</param>
    /// <param name="slowDelay">The delay for <see cref="FaultMode.Slow"/>; the default when null.</param>
    /// <param name="calls">Only these BBB calls are affected (<c>index</c> names the API's index); every call when null or empty.</param>
    public void SetFault(FaultMode mode, TimeSpan? slowDelay = null, IEnumerable<string>? calls = null)
    {
        var only = calls?.Where(c => c.Length > 0).ToHashSet(StringComparer.Ordinal);
        var next = new FaultState(mode, slowDelay ?? _defaultSlowDelay, only is { Count: > 0 } ? only : null);
        var previous = Interlocked.Exchange(ref _fault, next);
        previous.Retire();
    }

    /// <summary>BBB API calls received with a valid checksum (or needing none), by call name.</summary>
    public IReadOnlyDictionary<string, long> GetCallCounts() => Snapshot(_calls);

    /// <summary>BBB API calls rejected for their checksum, by call name.</summary>
    public IReadOnlyDictionary<string, long> GetChecksumFailures() => Snapshot(_checksumFailures);

    /// <summary>Calls of one name received with a valid checksum.</summary>
    public long GetCallCount(string call) => _calls.TryGetValue(call, out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>The last <see cref="ReceivedLimit"/> calls received with a valid checksum, oldest first; only <paramref name="call"/> when given.</summary>
    public IReadOnlyList<ReceivedCall> GetReceivedCalls(string? call = null) =>
        [.. _received.Where(r => call is null || r.Call == call)];

    /// <summary>How many received calls <see cref="GetReceivedCalls"/> keeps.</summary>
    public const int ReceivedLimit = 500;

    /// <summary>A consistent snapshot of every meeting.</summary>
    public IReadOnlyList<SimulatedMeetingInfo> GetMeetings()
    {
        var result = new List<SimulatedMeetingInfo>();
        foreach (var (_, meeting) in Meetings)
        {
            lock (meeting.Sync)
            {
                result.Add(new SimulatedMeetingInfo(
                    meeting.MeetingId,
                    meeting.InternalMeetingId,
                    meeting.Name,
                    meeting.Running,
                    meeting.ParticipantCount,
                    meeting.ModeratorCount,
                    meeting.VideoCount,
                    meeting.CreateTime,
                    meeting.IsBreakout,
                    meeting.Metadata));
            }
        }

        result.Sort((a, b) => a.CreateTime != b.CreateTime ? a.CreateTime.CompareTo(b.CreateTime) : string.CompareOrdinal(a.MeetingId, b.MeetingId));
        return result;
    }

    /// <summary>
    /// Sets the synthetic viewers and video streams of a meeting and marks it running, as if that many
    /// people had joined through a real client.
    /// </summary>
    /// <returns>False when the meeting is unknown.</returns>
    public bool SetAttendees(string meetingId, int viewers, int videoStreams)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(viewers);
        ArgumentOutOfRangeException.ThrowIfNegative(videoStreams);
        if (!Meetings.TryGetValue(meetingId, out var meeting))
        {
            return false;
        }

        lock (meeting.Sync)
        {
            meeting.SyntheticViewers = viewers;
            meeting.SyntheticVideo = videoStreams;
            meeting.Running = true;
            meeting.HasUserJoined = true;
        }

        return true;
    }

    /// <summary>
    /// Ends a meeting as if everyone left: it disappears from every answer, and its analytics are posted when it was
    /// created with <c>meta_analytics-callback-url</c>.
    /// </summary>
    /// <returns>False when the meeting is unknown.</returns>
    public bool EndMeeting(string meetingId)
    {
        if (!Meetings.TryRemove(meetingId, out var meeting))
        {
            return false;
        }

        AnalyticsCallback.PostIfAsked(this, meeting);
        return true;
    }

    /// <summary>Forgets all meetings and counters and returns to <see cref="FaultMode.Ok"/>.</summary>
    public void Reset()
    {
        Meetings.Clear();
        _calls.Clear();
        _checksumFailures.Clear();
        _received.Clear();
        SetFault(FaultMode.Ok);
    }

    internal void CountCall(string call) => Increment(_calls, call);

    internal void Receive(string call, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        _received.Enqueue(new ReceivedCall(call, [.. parameters]));
        while (_received.Count > ReceivedLimit && _received.TryDequeue(out _))
        {
        }
    }

    internal void CountChecksumFailure(string call) => Increment(_checksumFailures, call);

    private static void Increment(ConcurrentDictionary<string, StrongBox<long>> counters, string key)
    {
        var box = counters.GetOrAdd(key, static _ => new StrongBox<long>());
        Interlocked.Increment(ref box.Value);
    }

    private static Dictionary<string, long> Snapshot(ConcurrentDictionary<string, StrongBox<long>> counters)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, box) in counters)
        {
            result[key] = Interlocked.Read(ref box.Value);
        }

        return result;
    }
}
