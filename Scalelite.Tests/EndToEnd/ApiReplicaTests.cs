using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Scalelite.Tests.Support;
using Xunit.Abstractions;

namespace Scalelite.Tests.EndToEnd;

/// <summary>The whole system with the API as three replicas behind the AppHost's nginx.</summary>
public sealed class ReplicatedAppFixture() : ScaleliteAppFixture(apiReplicas: 3);

/// <summary>
/// Several API replicas behave as one API: each replica is addressed directly (replicas A, B and C), and through the
/// balancer. Replicas share nothing but PostgreSQL and Redis, so these are the checks that no replica keeps a state of
/// its own that the others cannot see.
/// </summary>
[Collection(ApiReplicaCollection.Name)]
public sealed class ApiReplicaTests(ReplicatedAppFixture fixture, ITestOutputHelper output) : IDisposable
{
    /// <summary>Generous for a loaded 2-core machine: the conditions are awaited, the deadline only ends a broken run.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly List<BbbTestClient> _replicas = [.. fixture.Endpoints.Api.Replicas!.Select(url => new BbbTestClient(url, fixture.Endpoints.Api.Secret))];

    private readonly string _prefix = $"rep-{Guid.NewGuid():N}"[..12];

    private BbbTestClient A => _replicas[0];

    private BbbTestClient B => _replicas[1];

    private BbbTestClient C => _replicas[2];

    [Fact]
    public async Task Create_ConcurrentOnEveryReplica_ExactlyOneMeetingPerId()
    {
        Assert.Equal(3, _replicas.Count);
        Assert.Equal(3, _replicas.Select(r => r.BaseUrl).Distinct().Count());

        // 300 creates of 100 meeting IDs, all at once: each ID is created once on each replica (i, i+100, i+200 fall on
        // three different replicas), so the three race for the same meeting.
        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var id = $"{_prefix}-{(i % 100).ToString(CultureInfo.InvariantCulture)}";
            var answer = await _replicas[i % 3].CreateAsync(id);
            return (Id: id, Answer: answer);
        }));

        Assert.All(answers, a => XmlAssert.Success(a.Answer));
        // Every create of an ID answered with the same meeting.
        Assert.All(answers.GroupBy(a => a.Id), g => Assert.Single(g.Select(a => a.Answer.Element("internalMeetingID")!.Value).Distinct()));

        var onSimulators = await MeetingsOnSimulatorsAsync(_prefix);
        Assert.Equal(100, onSimulators.Count);
        Assert.Equal(100, onSimulators.Select(m => m.MeetingId).Distinct().Count());
    }

    [Fact]
    public async Task EndThenCreate_OnOtherReplica_NewMeetingThatAJoinOnTheThirdReaches()
    {
        var id = $"{_prefix}-again";
        var first = await A.CreateAsync(id);
        XmlAssert.Success(first);
        XmlAssert.Success(await A.CallAsync("end", ("meetingID", id)));

        var second = await B.CreateAsync(id);
        XmlAssert.Success(second);
        var internalId = second.Element("internalMeetingID")!.Value;
        Assert.NotEqual(first.Element("internalMeetingID")!.Value, internalId);

        using var join = await C.JoinAsync(id);
        Assert.Equal(HttpStatusCode.Found, join.StatusCode);
        var location = join.Headers.Location!;
        var owner = fixture.Endpoints.Simulators.Single(s => new Uri(s.Url).Authority == location.Authority);
        using var simulator = new BbbTestClient(owner.Url, owner.Secret);
        var info = await simulator.CallAsync("getMeetingInfo", ("meetingID", id));
        XmlAssert.Success(info);
        Assert.Equal(internalId, info.Element("internalMeetingID")!.Value);
        // And the simulator accepts the join it was sent (the redirect is signed with its secret).
        using var followed = await simulator.Http.GetAsync(location);
        Assert.True(followed.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found, $"the simulator answered {(int)followed.StatusCode} to {location}");
    }

    [Fact]
    public async Task Cordon_OnOneReplica_SeenByTheOthersAndHonouredByTheirCreates()
    {
        var cordoned = fixture.Endpoints.Simulators[0];
        var id = await ServerIdAsync(A, cordoned.Url);
        try
        {
            var watch = Stopwatch.StartNew();
            await PostAsync(A, $"/api/v1/servers/{id}/cordon");
            var seen = new ConcurrentDictionary<string, TimeSpan>();
            await Eventually.TrueAsync(
                async () =>
                {
                    foreach (var replica in new[] { B, C })
                    {
                        if (!seen.ContainsKey(replica.BaseUrl) && await StateAsync(replica, id) == "cordoned")
                        {
                            seen[replica.BaseUrl] = watch.Elapsed;
                        }
                    }

                    return seen.Count == 2;
                },
                Deadline,
                "replicas B and C list the server as cordoned");
            // Reported, not asserted: the machine's load decides it.
            output.WriteLine($"cordon on A seen by B after {seen[B.BaseUrl].TotalMilliseconds:F0} ms, by C after {seen[C.BaseUrl].TotalMilliseconds:F0} ms");

            // Placement reads each replica's directory, reloaded from PostgreSQL every second: creates on B and C may
            // still land on the server for that long. Once they have all gone elsewhere for a dozen creates in a row,
            // both replicas place by the cordon.
            using var onCordoned = new BbbTestClient(cordoned.Url, cordoned.Secret);
            var last = TimeSpan.Zero;
            var (n, clean) = (0, 0);
            await Eventually.TrueAsync(
                async () =>
                {
                    var meetingId = $"{_prefix}-after-cordon-{n.ToString(CultureInfo.InvariantCulture)}";
                    XmlAssert.Success(await _replicas[1 + (n++ % 2)].CreateAsync(meetingId));
                    if ((await onCordoned.CallAsync("getMeetingInfo", ("meetingID", meetingId))).Element("returncode")?.Value == "SUCCESS")
                    {
                        (clean, last) = (0, watch.Elapsed);
                    }
                    else
                    {
                        clean++;
                    }

                    return clean >= 12;
                },
                Deadline,
                "creates on B and C no longer go to the cordoned server");
            output.WriteLine($"{n} creates on B and C; the last one placed on the cordoned server {last.TotalMilliseconds:F0} ms after the cordon");
        }
        finally
        {
            await PostAsync(A, $"/api/v1/servers/{id}/enable");
            await Eventually.TrueAsync(async () => await StateAsync(B, id) == "enabled" && await StateAsync(C, id) == "enabled", Deadline, "the server is enabled again");
        }
    }

    [Fact]
    public async Task KillReplica_UnderLoad_OthersKeepAnsweringAndNoMeetingIsLost()
    {
        using var balancer = new BbbTestClient(fixture.Endpoints.Api.Url, fixture.Endpoints.Api.Secret);
        var before = Enumerable.Range(0, 30).Select(i => $"{_prefix}-before-{i.ToString(CultureInfo.InvariantCulture)}").ToList();
        for (var i = 0; i < before.Count; i++)
        {
            XmlAssert.Success(await _replicas[i % 3].CreateAsync(before[i]));
        }

        // Load on the balancer and on the replicas that stay (C gets its share through the balancer): creates of new
        // meetings and joins of the earlier ones, every answer checked.
        var targets = new[] { ("balancer", balancer), ("A", A), ("B", B) };
        var created = new ConcurrentBag<string>();
        var failures = new ConcurrentQueue<string>();
        long answered = 0;
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var (name, client) = targets[(worker + n) % targets.Length];
                var id = $"{_prefix}-load-{worker.ToString(CultureInfo.InvariantCulture)}-{n.ToString(CultureInfo.InvariantCulture)}";
                try
                {
                    var answer = await client.CreateAsync(id);
                    if (answer.Element("returncode")?.Value == "SUCCESS")
                    {
                        created.Add(id);
                    }
                    else
                    {
                        failures.Enqueue($"{name}: create {id}: {answer}");
                    }

                    using var join = await client.JoinAsync(before[n % before.Count]);
                    if (join.StatusCode != HttpStatusCode.Found)
                    {
                        failures.Enqueue($"{name}: join answered {(int)join.StatusCode}");
                    }

                    Interlocked.Add(ref answered, 2);
                }
#pragma warning disable CA1031 // Every failure is collected and asserted on below.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue($"{name}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        })).ToList();

        int killed;
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(Interlocked.Read(ref answered) >= 60), Deadline, "the load is under way");
            killed = ReplicaProcess(C);
            Process.GetProcessById(killed).Kill();
            var atKill = Interlocked.Read(ref answered);
            output.WriteLine($"killed replica C (pid {killed}) after {atKill} answers");
            await Eventually.TrueAsync(() => Task.FromResult(Interlocked.Read(ref answered) >= atKill + 120), Deadline, "the load goes on after the kill");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers);
        }

        try
        {
            output.WriteLine($"{Interlocked.Read(ref answered)} answers, {created.Count} meetings created under load, {failures.Count} failures");
            Assert.True(failures.IsEmpty, string.Join(Environment.NewLine, failures.Take(20)));

            // C is gone; every meeting, from before and under load, is joinable through A, B and the balancer.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => C.Http.GetAsync(C.Url("getMeetings")));
            var all = before.Concat(created).ToList();
            foreach (var (id, i) in all.Select((id, i) => (id, i)))
            {
                using var join = await targets[i % targets.Length].Item2.JoinAsync(id);
                Assert.True(join.StatusCode == HttpStatusCode.Found, $"join of {id} answered {(int)join.StatusCode}");
            }

            var onSimulators = await MeetingsOnSimulatorsAsync(_prefix);
            Assert.All(all, id => Assert.Contains(onSimulators, m => m.MeetingId == id));
        }
        finally
        {
            await RestartAsync("api-3");
        }
    }

    /// <summary>Meetings whose ID starts with <paramref name="prefix"/>, as the simulated servers themselves report them.</summary>
    private async Task<List<(string Simulator, string MeetingId)>> MeetingsOnSimulatorsAsync(string prefix)
    {
        var found = new List<(string, string)>();
        foreach (var sim in fixture.Endpoints.Simulators)
        {
            using var client = new BbbTestClient(sim.Url, sim.Secret);
            var meetings = await client.CallAsync("getMeetings");
            found.AddRange(meetings.Descendants("meeting")
                .Select(m => m.Element("meetingID")!.Value)
                .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
                .Select(id => (sim.Url, id)));
        }

        return found;
    }

    private static string Operator(BbbTestClient replica, string path) =>
        replica.BaseUrl.Replace("/bigbluebutton/api", path, StringComparison.Ordinal);

    private async Task<string> ServerIdAsync(BbbTestClient replica, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Operator(replica, "/api/v1/servers"));
        request.Headers.Authorization = new("Bearer", fixture.Endpoints.Api.Secret);
        using var response = await replica.Http.SendAsync(request);
        var servers = await response.Content.ReadFromJsonAsync<JsonElement>();
        return servers.EnumerateArray().Single(s => s.GetProperty("url").GetString() == url).GetProperty("id").GetString()!;
    }

    private async Task<string?> StateAsync(BbbTestClient replica, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Operator(replica, $"/api/v1/servers/{id}"));
        request.Headers.Authorization = new("Bearer", fixture.Endpoints.Api.Secret);
        using var response = await replica.Http.SendAsync(request);
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString() : null;
    }

    private async Task PostAsync(BbbTestClient replica, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Operator(replica, path)) { Content = JsonContent.Create(new { }) };
        request.Headers.Authorization = new("Bearer", fixture.Endpoints.Api.Secret);
        using var response = await replica.Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The Api process listening on the replica's port (not the <c>dotnet run</c> that DCP starts it through).</summary>
    private static int ReplicaProcess(BbbTestClient replica)
    {
        var port = ":" + new Uri(replica.BaseUrl).Port.ToString(CultureInfo.InvariantCulture);
        return ProcessTree.All()
            .Where(p => p.CommandLine.Contains("Scalelite.Api", StringComparison.Ordinal) && !p.CommandLine.StartsWith("dotnet run", StringComparison.Ordinal))
            .Single(p => p.Environment().TryGetValue("ASPNETCORE_URLS", out var urls) && urls.TrimEnd('/').EndsWith(port, StringComparison.Ordinal))
            .Pid;
    }

    /// <summary>Starts a killed replica again, so the class's other tests find three whatever the order.</summary>
    private async Task RestartAsync(string name)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var notifications = fixture.App.ResourceNotifications;
        await notifications.WaitForResourceAsync(name, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), timeout.Token);
        var resource = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);
        var result = await fixture.App.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand, timeout.Token);
        Assert.True(result.Success, result.Message);
        await notifications.WaitForResourceAsync(name, ScaleliteAppFixture.IsRunningAndHealthy, timeout.Token);
        // The health shown may still be the killed process's last: wait until the new one answers.
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return (await C.CallAsync("getMeetings")).Element("returncode")?.Value == "SUCCESS";
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromMinutes(3),
            $"{name} answers again");
    }

    public void Dispose()
    {
        foreach (var replica in _replicas)
        {
            replica.Dispose();
        }
    }
}
