using System.Net;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Monitoring.Canary;
using Scalelite.Core.Pool;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Meetings;

/// <summary>getMeetings for the whole pool: every reachable server asked in parallel, the answers merged.</summary>
/// <remarks>
/// Each server gets the fan-out timeout on its own; a dead, hung or garbled server is left out of the
/// answer and never fails the call (Scalelite #498). Merging does not rebuild the meetings: each answer is checked
/// in one forward-only pass (well-formed, SUCCESS) and the bytes between its <c>&lt;meetings&gt;</c> and
/// <c>&lt;/meetings&gt;</c> are copied as they came, which costs a quarter of parsing and re-writing them.
/// With multitenancy, a tenant's call copies only its own meetings, each as it came (<see cref="TenantMeetingFilter"/>);
/// without it nothing is filtered and the whole content is copied as one piece.
/// <para>A meeting is listed once. The same check pass notes each answer's meeting IDs; when one runs on two servers
/// (re-created elsewhere while its first server was offline, which then came back: see the poller's
/// <c>SplitMeetings</c>), only the registry's owner's copy is listed, the copy joins reach. When the registry names
/// neither (or cannot be asked), the copy created last is listed. Only the answers holding such a meeting are rebuilt.</para>
/// <para>The canary's test meetings are never listed: an answer holding one is rebuilt without it.</para>
/// </remarks>
public sealed class MeetingList(
    IServerDirectory directory, BbbClient client, MeetingLocator locator, IOptions<ScaleliteOptions> options, IOptions<BackendOptions> backend)
{
    private const string NoMeetingsKey = "noMeetings";
    private const string NoMeetingsMessage = "no meetings were found on this server";
    private static readonly byte[] Open = "<meetings>"u8.ToArray();
    private static readonly byte[] Close = "</meetings>"u8.ToArray();
    private static readonly byte[] Head = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?><response><returncode>SUCCESS</returncode><meetings>");
    private static readonly byte[] Tail = Encoding.UTF8.GetBytes("</meetings></response>");

    /// <param name="tenantId">With multitenancy, the tenant whose meetings are listed; null lists every meeting.</param>
    public async Task<byte[]> GetMeetingsAsync(string? tenantId, CancellationToken ct)
    {
        if (options.Value.GetMeetingsApiDisabled)
        {
            return Empty();
        }

        var servers = directory.All.Where(s => s.Reachable).ToList();
        var answers = await Task.WhenAll(servers.Select(s => client.GetAsync(s, "getMeetings", new BbbParameters(), backend.Value.FanOut, ct)));
        var parts = new List<Listed>(answers.Length);
        for (var i = 0; i < answers.Length; i++)
        {
            if (answers[i].Status != HttpStatusCode.OK)
            {
                continue;
            }

            var ids = new List<string>();
            Listed? found = null;
            if (tenantId is not null)
            {
                var pieces = new List<ArraySegment<byte>>();
                if (TenantMeetingFilter.Collect(answers[i].Body, tenantId, pieces, ids) && pieces.Count > 0)
                {
                    found = new Listed(servers[i].Id, answers[i].Body, pieces, ids);
                }
            }
            else if (MeetingsOf(answers[i].Body, ids) is { Count: > 0 } meetings)
            {
                found = new Listed(servers[i].Id, answers[i].Body, [meetings], ids);
            }

            if (found is not null && WithoutCanaries(found, tenantId) is { Ids.Count: > 0 } listed)
            {
                parts.Add(listed);
            }
        }

        var duplicated = parts.SelectMany(l => l.Ids.Distinct(StringComparer.Ordinal)).GroupBy(id => id, StringComparer.Ordinal)
            .Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        if (duplicated.Count > 0)
        {
            await KeepOneCopyAsync(parts, duplicated, tenantId);
        }

        if (parts.Count == 0)
        {
            return Empty();
        }

        var merged = new byte[Head.Length + parts.Sum(p => p.Pieces.Sum(m => m.Count)) + Tail.Length];
        Head.CopyTo(merged, 0);
        var at = Head.Length;
        foreach (var piece in parts.SelectMany(p => p.Pieces))
        {
            piece.CopyTo(merged, at);
            at += piece.Count;
        }

        Tail.CopyTo(merged, at);
        return merged;
    }

    /// <summary>
    /// One server's answer in the list: the byte ranges it contributes (the whole content of its meetings element, or
    /// a tenant's meetings one by one), and the meeting IDs in them.
    /// </summary>
    private sealed record Listed(string ServerId, byte[] Body, IReadOnlyList<ArraySegment<byte>> Pieces, IReadOnlyList<string> Ids);

    /// <summary>
    /// Rebuilds the answers holding a meeting that runs on more than one server, so that each such meeting keeps one
    /// copy: the registry owner's, else the one created last.
    /// </summary>
    private async Task KeepOneCopyAsync(List<Listed> parts, HashSet<string> duplicated, string? tenantId)
    {
        var documents = parts.Select(p => p.Ids.Any(duplicated.Contains) ? Load(p.Body) : null).ToList();
        if (tenantId is not null)
        {
            // A rebuilt answer must still hold only the tenant's meetings (the default tenant's have no tenant-id).
            foreach (var document in documents.OfType<XDocument>())
            {
                document.Root?.Element("meetings")?.Elements("meeting").Where(m => !IsListed(m, tenantId)).Remove();
            }
        }

        foreach (var id in duplicated)
        {
            var copies = parts.Select((p, i) => (Index: i, p.ServerId, Meeting: documents[i]?.Root?.Element("meetings")?.Elements("meeting")
                    .FirstOrDefault(m => m.Element("meetingID")?.Value == id)))
                .Where(c => c.Meeting is not null).ToList();
            var owner = await OwnerAsync(tenantId ?? Tenant.DefaultId, id);
            var keep = copies.Find(c => c.ServerId == owner);
            if (keep.Meeting is null)
            {
                keep = copies.MaxBy(c => long.TryParse(c.Meeting!.Element("createTime")?.Value, out var t) ? t : 0);
            }

            foreach (var copy in copies.Where(c => c.Index != keep.Index))
            {
                copy.Meeting!.Remove();
            }
        }

        for (var i = 0; i < parts.Count; i++)
        {
            if (documents[i] is { } rebuilt)
            {
                var meetings = string.Concat(rebuilt.Root!.Element("meetings")!.Elements("meeting").Select(m => m.ToString(SaveOptions.DisableFormatting)));
                parts[i] = parts[i] with { Pieces = [Encoding.UTF8.GetBytes(meetings)] };
            }
        }
    }

    /// <summary>
    /// The answer without the canary's test meetings (<see cref="CanaryMeeting"/>), which are the pool's own, not an
    /// LMS's. Only an answer holding one is rebuilt, and the canary's meeting lives for a second every few minutes.
    /// </summary>
    private static Listed WithoutCanaries(Listed part, string? tenantId)
    {
        if (!part.Ids.Any(CanaryMeeting.IsCanary))
        {
            return part;
        }

        var kept = string.Concat(Load(part.Body).Root!.Element("meetings")!.Elements("meeting")
            .Where(m => !CanaryMeeting.IsCanary(m.Element("meetingID")?.Value) && IsListed(m, tenantId))
            .Select(m => m.ToString(SaveOptions.DisableFormatting)));
        return part with
        {
            // The body too, as the rebuild of a split meeting's answer reads it.
            Body = Encoding.UTF8.GetBytes($"<response><returncode>SUCCESS</returncode><meetings>{kept}</meetings></response>"),
            Pieces = [Encoding.UTF8.GetBytes(kept)],
            Ids = [.. part.Ids.Where(id => !CanaryMeeting.IsCanary(id))],
        };
    }

    /// <summary>Whether a meeting belongs in the list: every meeting without tenants, else the tenant's (the default tenant's have no tenant-id).</summary>
    private static bool IsListed(XElement meeting, string? tenantId) =>
        tenantId is null || (meeting.Element("metadata")?.Element("tenant-id")?.Value ?? string.Empty) == tenantId;

    /// <summary>The registry's owner of a meeting (while Redis is down, the one this replica knows); null when it has none.</summary>
    private Task<string?> OwnerAsync(string tenantId, string meetingId) => locator.KnownOwnerAsync(tenantId, meetingId);

    private static XDocument Load(byte[] body)
    {
        using var stream = new MemoryStream(body, writable: false);
        using var reader = XmlReader.Create(stream, CheckSettings);
        return XDocument.Load(reader);
    }

    /// <summary>
    /// The raw content of a SUCCESS answer's <c>&lt;meetings&gt;</c> element; empty when there is none; null when the
    /// answer is unusable. The meeting IDs it lists are added to <paramref name="ids"/>.
    /// </summary>
    internal static ArraySegment<byte>? MeetingsOf(byte[] body, List<string>? ids = null)
    {
        if (!IsSuccessDocument(body, ids))
        {
            return null;
        }

        var span = body.AsSpan();
        var open = span.IndexOf(Open);
        var close = span.LastIndexOf(Close);
        if (open < 0 || close < open)
        {
            // <meetings/> (none), or no meetings element at all.
            return ArraySegment<byte>.Empty;
        }

        var start = open + Open.Length;
        return new ArraySegment<byte>(body, start, close - start);
    }

    private static readonly XmlReaderSettings CheckSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreWhitespace = true,
        IgnoreComments = true,
    };

    private static bool IsSuccessDocument(byte[] body, List<string>? ids)
    {
        try
        {
            using var stream = new MemoryStream(body, writable: false);
            using var reader = XmlReader.Create(stream, CheckSettings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.Name != "response")
            {
                return false;
            }

            var success = false;
            // The element names on the path to the current node, below <response>: meetings, meeting.
            var path = new string[3];
            reader.Read();
            while (!reader.EOF)
            {
                if (reader.NodeType != XmlNodeType.Element || reader.Depth > 3)
                {
                    reader.Read();
                    continue;
                }

                path[reader.Depth - 1] = reader.Name;
                if (reader.Depth == 1 && reader.Name == "returncode")
                {
                    success = reader.ReadElementContentAsString() == "SUCCESS";
                }
                else if (reader.Depth == 3 && reader.Name == "meetingID" && path[0] == "meetings" && path[1] == "meeting")
                {
                    var id = reader.ReadElementContentAsString();
                    ids?.Add(id);
                }
                else
                {
                    reader.Read();
                }
            }

            return success;
        }
        catch (XmlException)
        {
            return false;
        }
    }

    private static byte[] Empty() => BbbXml.Success(w =>
    {
        w.WriteStartElement("meetings");
        w.WriteEndElement();
        w.WriteElementString("messageKey", NoMeetingsKey);
        w.WriteElementString("message", NoMeetingsMessage);
    });
}
