using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;

namespace Scalelite.Api.Meetings;

/// <summary>getMeetings for the whole pool: every reachable server asked in parallel, the answers merged.</summary>
/// <remarks>
/// Each server gets the fan-out timeout on its own; a dead, hung or garbled server is left out of the
/// answer and never fails the call (Scalelite #498).
/// </remarks>
public sealed class MeetingList(IServerDirectory directory, BbbClient client, IOptions<ScaleliteOptions> options, IOptions<BackendOptions> backend)
{
    private const string NoMeetingsKey = "noMeetings";
    private const string NoMeetingsMessage = "no meetings were found on this server";

    public async Task<byte[]> GetMeetingsAsync(string tenantId, bool multitenant, CancellationToken ct)
    {
        if (options.Value.GetMeetingsApiDisabled)
        {
            return Empty();
        }

        var servers = directory.All.Where(s => s.Reachable).ToList();
        var answers = await Task.WhenAll(servers.Select(s => client.GetAsync(s, "getMeetings", new BbbParameters(), backend.Value.FanOut, ct)));
        var meetings = new List<XElement>();
        foreach (var answer in answers)
        {
            if (!answer.IsSuccess || answer.Xml?.Root?.Element("meetings") is not { } list)
            {
                continue;
            }

            foreach (var meeting in list.Elements("meeting"))
            {
                if (!multitenant || meeting.Element("metadata")?.Element("tenant-id")?.Value == tenantId)
                {
                    meetings.Add(meeting);
                }
            }
        }

        if (meetings.Count == 0)
        {
            return Empty();
        }

        return BbbXml.Success(w =>
        {
            w.WriteStartElement("meetings");
            foreach (var meeting in meetings)
            {
                meeting.WriteTo(w);
            }

            w.WriteEndElement();
        });
    }

    private static byte[] Empty() => BbbXml.Success(w =>
    {
        w.WriteStartElement("meetings");
        w.WriteEndElement();
        w.WriteElementString("messageKey", NoMeetingsKey);
        w.WriteElementString("message", NoMeetingsMessage);
    });
}
