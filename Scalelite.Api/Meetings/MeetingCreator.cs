using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using Scalelite.Api.Bbb;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;
using Scalelite.Core.Pool.Placement;
using Scalelite.Core.State;

namespace Scalelite.Api.Meetings;

/// <summary>The create call: idempotent, race-free across API replicas, placed on the least-loaded server.</summary>
/// <remarks>
/// A Redis lock per meeting makes exactly one caller place and create it; callers that wait on the lock
/// then find the owner. A repeat of the same create (same parameters) within <c>CreateDedupWindow</c> is
/// answered from the first answer as BBB's duplicateWarning, without a backend call, so a herd of retries
/// costs the backend one create. Other repeats are forwarded to the owner, which answers as BBB does
/// (duplicateWarning, or idNotUnique for different passwords). A meeting whose server went away, or whose
/// cordoned server no longer runs it, is placed anew. This class keeps the lock, the deduplication and the
/// ownership record; which server takes a new meeting, and what happens when it fails, is <see cref="MeetingPlacement"/>'s.
/// <para>While Redis is down (<see cref="IRedisBreaker"/> open) the same steps run without it: creates of one meeting
/// take turns on this replica (no lock is shared with the other replicas), the owner comes from this replica's memory
/// or from the servers (<see cref="MeetingLocator.FindWithoutRedisAsync"/>), a new meeting is placed from the loads
/// this replica knows (<see cref="MeetingPlacement.PlaceWithoutRedisAsync"/>), and its owner is kept in memory until
/// Redis can record it (<see cref="OwnershipBacklog"/>, which also settles a meeting placed by two replicas). A
/// tenant's meeting limit and its hold on a meeting ID are counted in Redis (<see cref="Tenancy.TenantAdmission"/>),
/// so they are not applied until it is back: for the minutes of an outage a create is worth more than a limit.</para>
/// </remarks>
public sealed class MeetingCreator(
    MeetingRegistry registry,
    MeetingPlacement placement,
    IServerDirectory directory,
    BbbClient client,
    VoiceBridges voiceBridges,
    MeetingLocator locator,
    ParameterRules rules,
    CallbackCapture callbacks,
    Tenancy.TenantAdmission tenancy,
    IRedisBreaker breaker,
    TimeProvider time,
    IOptions<ScaleliteOptions> options) : IDisposable
{
    private const string ServerTagKey = "meta_server-tag";

    private const string DuplicateKey = "duplicateWarning";
    private const string DuplicateMessage = "This conference was already in existence and may currently be in progress.";

    // Creates of one meeting take turns on this replica while Redis is down; meetings share one of these by their key's hash.
    private readonly SemaphoreSlim[] _turns = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public async Task<IResult> CreateAsync(BbbRequest request, CancellationToken ct)
    {
        if (request.Required("meetingID") is not { } meetingId)
        {
            return BbbResults.Failed(BbbError.MissingMeetingId);
        }

        var o = options.Value;
        var parameters = rules.ApplyCreate(request.Parameters, request.Tenant);
        if (tenancy.PrepareCreate(parameters, request.Tenant) is { } refused)
        {
            return BbbResults.Failed(refused);
        }

        var captured = CallbackCapture.Take(parameters, AnalyticsRelay.UrlFor(Recordings.PublicUrls.Base(request.HttpContext.Request, o.UrlHost)));
        if (o.MaxMeetingDuration > 0 && (!int.TryParse(parameters["duration"], out var duration) || duration <= 0 || duration > o.MaxMeetingDuration))
        {
            parameters.Set("duration", o.MaxMeetingDuration.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var tenantId = request.Tenant.Id;
        var member = MeetingRegistry.MeetingKey(tenantId, meetingId);
        var hash = Fingerprint(parameters, request.XmlBody);
        if (!breaker.IsOpen)
        {
            try
            {
                return await CreateWithRedisAsync(request, parameters, captured, tenantId, meetingId, member, hash, ct);
            }
            catch (Exception ex) when (breaker.Trips(ex))
            {
                // Redis failed before a server took the meeting (once one has, its owner is kept in memory instead):
                // the create goes on without it.
            }
        }

        return await CreateWithoutRedisAsync(request, parameters, captured, tenantId, meetingId, member, hash, ct);
    }

    private async Task<IResult> CreateWithRedisAsync(
        BbbRequest request, Core.Bbb.BbbParameters parameters, CapturedCallbacks captured, string tenantId, string meetingId, string member, string hash, CancellationToken ct)
    {
        var lockMember = tenancy.LockMember(tenantId, meetingId);
        // Long enough for the holder's worst case: a heal fan-out and every create attempt of a placement.
        var lockTtl = locator.LongestHeal + placement.LongestPlacement + TimeSpan.FromSeconds(5);
        var deadline = time.GetUtcNow() + lockTtl + TimeSpan.FromSeconds(5);
        var waited = false;

        while (true)
        {
            var existing = await registry.FindAsync(tenantId, meetingId);
            if (existing is not null)
            {
                var answer = await AnswerExistingAsync(existing, parameters, hash, waited, request, ct);
                if (answer is not null)
                {
                    return answer;
                }
            }

            var token = await registry.TryLockCreateAsync(lockMember, lockTtl);
            if (token is null)
            {
                if (time.GetUtcNow() > deadline)
                {
                    return BbbResults.Failed(BbbError.Internal("The meeting is being created by another request; try again."));
                }

                waited = true;
                await Task.Delay(TimeSpan.FromMilliseconds(15), time, ct);
                continue;
            }

            try
            {
                // Someone may have finished between our lookup and the lock.
                if (await registry.FindAsync(tenantId, meetingId) is not null)
                {
                    waited = true;
                    continue;
                }

                if (!await registry.IsAuthoritativeAsync() && await locator.HealAsync(tenantId, meetingId, ct) is not null)
                {
                    continue;
                }

                // A meeting ID another tenant runs, or a tenant at its meeting limit (multitenancy only).
                if (await tenancy.AdmitAsync(request.Tenant, meetingId, member) is { } refusal)
                {
                    return BbbResults.Failed(refusal);
                }

                return await PlaceAndCreateAsync(request, parameters, captured, tenantId, meetingId, member, hash, withRedis: true, ct);
            }
            finally
            {
                await ReleaseLockAsync(lockMember, token);
            }
        }
    }

    private async Task ReleaseLockAsync(string member, string token)
    {
        try
        {
            await registry.ReleaseCreateLockAsync(member, token);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            // It expires by itself; the create's answer stands.
        }
    }

    private async Task<IResult> CreateWithoutRedisAsync(
        BbbRequest request, Core.Bbb.BbbParameters parameters, CapturedCallbacks captured, string tenantId, string meetingId, string member, string hash, CancellationToken ct)
    {
        var turn = _turns[(uint)StringComparer.Ordinal.GetHashCode(member) % (uint)_turns.Length];
        await turn.WaitAsync(ct);
        try
        {
            if (await locator.FindWithoutRedisAsync(tenantId, meetingId, ct) is { } existing
                && await AnswerExistingAsync(existing, parameters, hash, waited: false, request, ct) is { } answer)
            {
                return answer;
            }

            return await PlaceAndCreateAsync(request, parameters, captured, tenantId, meetingId, member, hash, withRedis: false, ct);
        }
        finally
        {
            turn.Release();
        }
    }

    public void Dispose()
    {
        foreach (var turn in _turns)
        {
            turn.Dispose();
        }
    }

    /// <summary>Answers a create for a meeting that already has an owner; null when it must be placed anew.</summary>
    private async Task<IResult?> AnswerExistingAsync(MeetingRecord existing, Core.Bbb.BbbParameters parameters, string hash, bool waited, BbbRequest request, CancellationToken ct)
    {
        var server = await directory.ResolveAsync(existing.ServerId, ct);
        if (server is null || !server.Reachable)
        {
            await locator.ForgetAsync(existing.TenantId, existing.MeetingId);
            return null;
        }

        if (existing.CreateResponse is not null && existing.CreateHash == hash)
        {
            // A caller that waited on the lock was concurrent with the create that made the meeting: it exists.
            if (waited)
            {
                return BbbResults.Xml(AsDuplicate(existing.CreateResponse));
            }

            // A later identical repeat within the window is answered from the first answer too, but only once the
            // owner confirms the meeting still exists: a moderator may have ended it in the meantime.
            if (time.GetUtcNow() - existing.CreatedAt < TimeSpan.FromSeconds(options.Value.CreateDedupWindow))
            {
                var info = await client.GetAsync(server, "getMeetingInfo", new Core.Bbb.BbbParameters().Add("meetingID", existing.MeetingId), ct: ct);
                if (info.IsSuccess)
                {
                    return BbbResults.Xml(AsDuplicate(existing.CreateResponse));
                }

                if (info.MessageKey == "notFound")
                {
                    await locator.ForgetAsync(existing.TenantId, existing.MeetingId);
                    return null;
                }
            }
        }

        if (server.State == Core.Persistence.ServerState.Cordoned)
        {
            // A cordoned server keeps the meetings it runs, but one that ended there is placed elsewhere.
            var info = await client.GetAsync(server, "isMeetingRunning", new Core.Bbb.BbbParameters().Add("meetingID", existing.MeetingId), ct: ct);
            if (info.IsSuccess && info.Element("running") != "true")
            {
                await locator.ForgetAsync(existing.TenantId, existing.MeetingId);
                return null;
            }
        }

        // The meeting keeps its pool-unique voice bridge when its owner re-creates it.
        if (existing.VoiceBridge is { } voiceBridge)
        {
            parameters.Set("voiceBridge", voiceBridge);
        }

        var response = await SendCreateAsync(server, parameters, request, ct);
        return BbbResults.PassThrough(response, "create");
    }

    private async Task<IResult> PlaceAndCreateAsync(
        BbbRequest request, Core.Bbb.BbbParameters parameters, CapturedCallbacks captured, string tenantId, string meetingId, string member, string hash, bool withRedis, CancellationToken ct)
    {
        var plan = placement.Plan(member, parameters);
        if (plan.MissingTag is not null)
        {
            return BbbResults.Failed(BbbError.ServerTagUnavailable(plan.MissingTag));
        }

        var voiceBridge = withRedis
            ? await voiceBridges.ReserveAsync(member, parameters["voiceBridge"])
            : voiceBridges.ChooseWithoutRedis(member, parameters["voiceBridge"], locator.HoldsVoiceBridge);
        if (voiceBridge is null)
        {
            return BbbResults.Failed(BbbError.Internal("Could not allocate a unique voice bridge."));
        }

        parameters.Set("voiceBridge", voiceBridge);
        Task<BackendResponse> Create(ServerSnapshot server) => SendCreateAsync(server, parameters, request, ct);
        var outcome = withRedis ? await placement.PlaceAsync(plan, Create) : await placement.PlaceWithoutRedisAsync(plan, Create);
        if (!outcome.Placed)
        {
            if (withRedis)
            {
                await ReleaseVoiceBridgeAsync(voiceBridge);
            }

            // A server that refused the meeting answers for it; servers that were sent the create and did not answer get
            // Scalelite's text for a create its server did not answer; with none to send it to, Scalelite's "no server".
            return outcome.Response is { } refused ? BbbResults.Xml(refused.Body)
                : BbbResults.Failed(outcome.Unanswered.Count > 0 ? BbbError.CreateUnreachable : BbbError.NoAvailableServers);
        }

        var response = outcome.Response;
        // The callbacks are kept before the owner is recorded, and whatever the caller does meanwhile: the owner is what
        // makes a retry a duplicate, so a create whose callbacks could not be kept must not leave one (CallbackCapture).
        if (!await callbacks.RecordAsync(tenantId, meetingId, response.Element("internalMeetingID"), captured, CancellationToken.None))
        {
            await client.GetAsync(outcome.Server, "end", new Core.Bbb.BbbParameters().Add("meetingID", meetingId), ct: CancellationToken.None);
            await placement.GiveBackAsync(member, outcome.Server.Id);
            if (withRedis)
            {
                await ReleaseVoiceBridgeAsync(voiceBridge);
            }

            return BbbResults.Failed(BbbError.Internal("The meeting's callbacks could not be stored, so it was not created; try again."));
        }

        var record = new MeetingRecord(tenantId, meetingId, outcome.Server.Id, time.GetUtcNow(), response.Element("internalMeetingID"), voiceBridge,
            response.Element("moderatorPW"), hash, response.Body);
        if (!withRedis || !await TryRecordAsync(record))
        {
            // The meeting runs on its server: its owner is kept in memory until Redis can record it. The server's
            // createTime dates it, should another replica have placed it too meanwhile (see OwnershipBacklog).
            locator.RememberPlaced(long.TryParse(response.Element("createTime"), out var ms) ? record with { CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms) } : record);
        }

        return BbbResults.Xml(response.Body);
    }

    private async Task<bool> TryRecordAsync(MeetingRecord record)
    {
        try
        {
            await registry.RecordAsync(record, TimeSpan.FromSeconds(options.Value.MeetingTtl));
            return true;
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            return false;
        }
    }

    private async Task ReleaseVoiceBridgeAsync(string number)
    {
        try
        {
            await voiceBridges.ReleaseAsync(number);
        }
        catch (Exception ex) when (breaker.Trips(ex))
        {
            // The reservation expires with the meeting TTL; the number is derived again for a retry of the same meeting.
        }
    }

    private Task<BackendResponse> SendCreateAsync(ServerSnapshot server, Core.Bbb.BbbParameters parameters, BbbRequest request, CancellationToken ct)
    {
        // As Scalelite: the server is told the tag it has (no '!', no list), or no tag at all when it has none.
        parameters = parameters.Clone();
        if (string.IsNullOrEmpty(server.Tag))
        {
            parameters.Remove(ServerTagKey);
        }
        else
        {
            parameters.Set(ServerTagKey, server.Tag);
        }

        if (request.XmlBody is { } body)
        {
            var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", request.XmlContentType ?? "application/xml");
            return client.PostAsync(server, "create", parameters, content, ct: ct);
        }

        return client.GetAsync(server, "create", parameters, ct: ct);
    }

    /// <summary>The first create's answer, worded as BBB words a repeat.</summary>
    /// <remarks>
    /// Only the two texts change; the answer keeps the first one's form (no byte-order mark, an XML declaration only
    /// if the server sent one, the whitespace inside the document), so a client sees what the server's own repeat shows.
    /// </remarks>
    internal static byte[] AsDuplicate(byte[] original)
    {
        try
        {
            var doc = XDocument.Parse(Encoding.UTF8.GetString(original), System.Xml.Linq.LoadOptions.PreserveWhitespace);
            var root = doc.Root!;
            SetOrAdd(root, "messageKey", DuplicateKey);
            SetOrAdd(root, "message", DuplicateMessage);
            using var stream = new MemoryStream(original.Length + 128);
            var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), OmitXmlDeclaration = doc.Declaration is null };
            using (var writer = XmlWriter.Create(stream, settings))
            {
                doc.Save(writer);
            }

            return stream.ToArray();
        }
        catch (XmlException)
        {
            return original;
        }
    }

    private static void SetOrAdd(XElement root, string name, string value)
    {
        if (root.Element(name) is { } element)
        {
            element.Value = value;
        }
        else
        {
            root.Add(new XElement(name, value));
        }
    }

    private static string Fingerprint(Core.Bbb.BbbParameters parameters, byte[]? body)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in parameters.Where(p => p.Key != "voiceBridge").OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(key).Append('\0').Append(value).Append('\0');
        }

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        if (body is not null)
        {
            digest = SHA256.HashData([.. digest, .. SHA256.HashData(body)]);
        }

        return Convert.ToHexStringLower(digest);
    }
}
