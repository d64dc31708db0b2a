using System.Net;
using System.Text;
using System.Xml;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;

namespace Scalelite.Api.Meetings;

/// <summary>getMeetings for the whole pool: every reachable server asked in parallel, the answers merged.</summary>
/// <remarks>
/// Each server gets the fan-out timeout on its own; a dead, hung or garbled server is left out of the
/// answer and never fails the call (Scalelite #498). Merging does not rebuild the meetings: each answer is checked
/// in one forward-only pass (well-formed, SUCCESS) and the bytes between its <c>&lt;meetings&gt;</c> and
/// <c>&lt;/meetings&gt;</c> are copied as they came, which costs a quarter of parsing and re-writing them.
/// With multitenancy, a tenant's call copies only its own meetings, each as it came (<see cref="TenantMeetingFilter"/>);
/// without it nothing is filtered and the whole content is copied as one piece.
/// </remarks>
public sealed class MeetingList(IServerDirectory directory, BbbClient client, IOptions<ScaleliteOptions> options, IOptions<BackendOptions> backend)
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
        var parts = new List<ArraySegment<byte>>(answers.Length);
        foreach (var answer in answers)
        {
            if (answer.Status != HttpStatusCode.OK)
            {
                continue;
            }

            if (tenantId is not null)
            {
                TenantMeetingFilter.Collect(answer.Body, tenantId, parts);
            }
            else if (MeetingsOf(answer.Body) is { Count: > 0 } meetings)
            {
                parts.Add(meetings);
            }
        }

        if (parts.Count == 0)
        {
            return Empty();
        }

        var merged = new byte[Head.Length + parts.Sum(p => p.Count) + Tail.Length];
        Head.CopyTo(merged, 0);
        var at = Head.Length;
        foreach (var part in parts)
        {
            part.CopyTo(merged, at);
            at += part.Count;
        }

        Tail.CopyTo(merged, at);
        return merged;
    }

    /// <summary>The raw content of a SUCCESS answer's <c>&lt;meetings&gt;</c> element; empty when there is none; null when the answer is unusable.</summary>
    internal static ArraySegment<byte>? MeetingsOf(byte[] body)
    {
        if (!IsSuccessDocument(body))
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

    private static bool IsSuccessDocument(byte[] body)
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
            while (reader.Read())
            {
                if (reader.Depth == 1 && reader.NodeType == XmlNodeType.Element && reader.Name == "returncode")
                {
                    success = reader.ReadElementContentAsString() == "SUCCESS";
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
