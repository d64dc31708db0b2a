using System.Globalization;
using System.Text;
using System.Xml;

namespace Scalelite.BbbSimulator;

/// <summary>
/// Writes BBB's XML answers. A StringBuilder with explicit escaping is used rather than XmlWriter
/// because it is cheaper under a herd of calls and because characters XML cannot carry (control
/// characters, lone surrogates) are replaced instead of throwing, so any meeting name still gives
/// a well-formed answer.
/// </summary>
internal sealed class BbbXml
{
    private readonly StringBuilder _sb = new(512);

    private BbbXml()
    {
    }

    public static BbbXml Response(bool success)
    {
        var xml = new BbbXml();
        xml._sb.Append("<response>");
        xml.Element("returncode", success ? "SUCCESS" : "FAILED");
        return xml;
    }

    public static string Failed(string messageKey, string message) =>
        Response(success: false).Element("messageKey", messageKey).Element("message", message).End();

    public BbbXml Element(string name, string? value)
    {
        _sb.Append('<').Append(name).Append('>');
        AppendEscaped(_sb, value);
        _sb.Append("</").Append(name).Append('>');
        return this;
    }

    public BbbXml Element(string name, long value)
    {
        _sb.Append('<').Append(name).Append('>');
        _sb.Append(value.ToString(CultureInfo.InvariantCulture));
        _sb.Append("</").Append(name).Append('>');
        return this;
    }

    public BbbXml Element(string name, bool value) => Element(name, value ? "true" : "false");

    public BbbXml Open(string name)
    {
        _sb.Append('<').Append(name).Append('>');
        return this;
    }

    public BbbXml Close(string name)
    {
        _sb.Append("</").Append(name).Append('>');
        return this;
    }

    public BbbXml Empty(string name)
    {
        _sb.Append('<').Append(name).Append("/>");
        return this;
    }

    public string End()
    {
        _sb.Append("</response>");
        return _sb.ToString();
    }

    /// <summary>
    /// Writes a meeting as getMeetingInfo (<paramref name="forMeetingInfo"/>) or as one
    /// <c>&lt;meeting&gt;</c> of getMeetings; the two differ only in the order of the trailing elements,
    /// as in BBB's own templates.
    /// </summary>
    /// <remarks>Caller holds <see cref="Meeting.Sync"/>.</remarks>
    public BbbXml Meeting(Meeting m, bool forMeetingInfo)
    {
        Element("meetingName", m.Name);
        Element("meetingID", m.MeetingId);
        Element("internalMeetingID", m.InternalMeetingId);
        Element("createTime", m.CreateTime);
        Element("createDate", m.CreateDate);
        Element("voiceBridge", m.VoiceBridge);
        Element("dialNumber", m.DialNumber);
        Element("attendeePW", m.AttendeePassword);
        Element("moderatorPW", m.ModeratorPassword);
        Element("running", m.Running);
        Element("duration", m.Duration);
        Element("hasUserJoined", m.HasUserJoined);
        Element("recording", m.Recording);
        Element("hasBeenForciblyEnded", false);
        Element("startTime", m.CreateTime);
        Element("endTime", 0);
        Element("participantCount", m.ParticipantCount);
        Element("listenerCount", 0);
        Element("voiceParticipantCount", 0);
        Element("videoCount", m.VideoCount);
        Element("maxUsers", m.MaxUsers);
        Element("moderatorCount", m.ModeratorCount);
        Attendees(m);
        if (forMeetingInfo)
        {
            Element("isBreakout", m.IsBreakout);
            BreakoutFields(m);
            BreakoutRooms(m);
            Metadata(m);
        }
        else
        {
            Metadata(m);
            Element("isBreakout", m.IsBreakout);
            BreakoutFields(m);
            BreakoutRooms(m);
        }

        return this;
    }

    private void Attendees(Meeting m)
    {
        if (m.ParticipantCount == 0)
        {
            Empty("attendees");
            return;
        }

        Open("attendees");
        var presenterSet = false;
        foreach (var a in m.Attendees)
        {
            var presenter = !presenterSet && a.IsModerator;
            presenterSet |= presenter;
            Attendee(a.UserId, a.FullName, a.IsModerator, presenter, hasVideo: false, a.ClientType);
        }

        // Synthetic attendees are listed too, so participantCount always equals the attendee list,
        // as it does on a real server; the first ones carry the video streams.
        for (var i = 0; i < m.SyntheticViewers; i++)
        {
            var n = (i + 1).ToString(CultureInfo.InvariantCulture);
            Attendee("sim-user-" + n, "Simulated Viewer " + n, moderator: false, presenter: false, hasVideo: i < m.SyntheticVideo, "HTML5");
        }

        Close("attendees");
    }

    private void Attendee(string userId, string fullName, bool moderator, bool presenter, bool hasVideo, string clientType)
    {
        Open("attendee");
        Element("userID", userId);
        Element("fullName", fullName);
        Element("role", moderator ? "MODERATOR" : "VIEWER");
        Element("isPresenter", presenter);
        Element("isListeningOnly", false);
        Element("hasJoinedVoice", false);
        Element("hasVideo", hasVideo);
        Element("clientType", clientType);
        Empty("customdata");
        Close("attendee");
    }

    private void BreakoutFields(Meeting m)
    {
        if (!m.IsBreakout)
        {
            return;
        }

        Element("parentMeetingID", m.ParentMeetingId ?? "bbb-none");
        Element("sequence", m.Sequence);
        Element("freeJoin", m.FreeJoin);
    }

    private void BreakoutRooms(Meeting m)
    {
        if (m.BreakoutRooms.Count == 0)
        {
            return;
        }

        Open("breakoutRooms");
        foreach (var id in m.BreakoutRooms)
        {
            Element("breakout", id);
        }

        Close("breakoutRooms");
    }

    private void Metadata(Meeting m)
    {
        if (m.Metadata.Count == 0)
        {
            Empty("metadata");
            return;
        }

        Open("metadata");
        foreach (var (key, value) in m.Metadata)
        {
            Element(XmlName(key), value);
        }

        Close("metadata");
    }

    /// <summary>Metadata names come from clients; one that is not an XML name is encoded rather than breaking the document.</summary>
    internal static string XmlName(string name)
    {
        try
        {
            return XmlConvert.VerifyNCName(name);
        }
        catch (XmlException)
        {
            return XmlConvert.EncodeLocalName(name) ?? "_";
        }
    }

    internal static void AppendEscaped(StringBuilder sb, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '<':
                    sb.Append("&lt;");
                    break;
                case '>':
                    sb.Append("&gt;");
                    break;
                case '&':
                    sb.Append("&amp;");
                    break;
                case '"':
                    sb.Append("&quot;");
                    break;
                case '\'':
                    sb.Append("&apos;");
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        sb.Append(c).Append(value[++i]);
                    }
                    else if (XmlConvert.IsXmlChar(c))
                    {
                        sb.Append(c);
                    }
                    else
                    {
                        sb.Append('\uFFFD');
                    }

                    break;
            }
        }
    }
}
