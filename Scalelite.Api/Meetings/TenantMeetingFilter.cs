using System.Xml;

namespace Scalelite.Api.Meetings;

/// <summary>The <c>&lt;meeting&gt;</c> elements of one server's getMeetings answer that belong to one tenant, copied as bytes.</summary>
/// <remarks>
/// Two passes over the answer, neither of which builds a tree: an <see cref="XmlReader"/> pass checks the document
/// (well-formed, SUCCESS) and reads each meeting's <c>metadata/tenant-id</c> in document order; a byte scan of the
/// <c>&lt;meetings&gt;</c> content finds where each top-level element starts and ends (it skips CDATA sections,
/// comments, processing instructions and quoted attribute values, so a meeting's name cannot fake a boundary). The
/// i-th <c>meeting</c> of the scan is the i-th of the reader; if their numbers differ the answer is left out. The
/// meetings whose tenant matches are then copied as they came, like the unfiltered merge.
/// </remarks>
internal static class TenantMeetingFilter
{
    private static readonly byte[] Open = "<meetings>"u8.ToArray();
    private static readonly byte[] Close = "</meetings>"u8.ToArray();

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreWhitespace = true,
        IgnoreComments = true,
    };

    /// <summary>
    /// Adds the matching meetings of <paramref name="body"/> to <paramref name="parts"/>, and their meeting IDs to
    /// <paramref name="ids"/> when given.
    /// </summary>
    /// <param name="tenantId">The tenant's id; the default tenant's (empty) matches meetings without a tenant.</param>
    /// <returns>False when the answer is unusable (not a SUCCESS document, or its meetings cannot be told apart).</returns>
    public static bool Collect(byte[] body, string tenantId, List<ArraySegment<byte>> parts, List<string>? ids = null)
    {
        var meetingIds = new List<string?>();
        if (TenantsOf(body, meetingIds) is not { } tenants)
        {
            return false;
        }

        var span = body.AsSpan();
        var open = span.IndexOf(Open);
        var close = span.LastIndexOf(Close);
        if (open < 0 || close < open)
        {
            return tenants.Count == 0;
        }

        var meetings = Elements(body, open + Open.Length, close);
        if (meetings is null || meetings.Count != tenants.Count)
        {
            return false;
        }

        for (var i = 0; i < meetings.Count; i++)
        {
            if (string.Equals(tenants[i] ?? string.Empty, tenantId, StringComparison.Ordinal))
            {
                parts.Add(meetings[i]);
                if (ids is not null && meetingIds[i] is { } id)
                {
                    ids.Add(id);
                }
            }
        }

        return true;
    }

    /// <summary>
    /// The tenant-id of each meeting, in document order (null for none); null when the answer is not a SUCCESS document.
    /// The meeting IDs go to <paramref name="meetingIds"/> when given, in the same order (null for none).
    /// </summary>
    internal static List<string?>? TenantsOf(byte[] body, List<string?>? meetingIds = null)
    {
        try
        {
            using var stream = new MemoryStream(body, writable: false);
            using var reader = XmlReader.Create(stream, Settings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.Name != "response")
            {
                return null;
            }

            var names = new string[5];
            var tenants = new List<string?>();
            var success = false;
            reader.Read();
            while (!reader.EOF)
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    reader.Read();
                    continue;
                }

                var depth = reader.Depth;
                if (depth < names.Length)
                {
                    names[depth] = reader.Name;
                }

                if (depth == 1 && reader.Name == "returncode")
                {
                    success = reader.ReadElementContentAsString() == "SUCCESS";
                    continue;
                }

                if (depth == 2 && names[1] == "meetings" && reader.Name == "meeting")
                {
                    tenants.Add(null);
                    meetingIds?.Add(null);
                }
                else if (depth == 3 && reader.Name == "meetingID" && names[2] == "meeting" && names[1] == "meetings")
                {
                    var id = reader.ReadElementContentAsString();
                    if (meetingIds is not null)
                    {
                        meetingIds[^1] = id;
                    }

                    continue;
                }
                else if (depth == 4 && reader.Name == "tenant-id" && names[3] == "metadata" && names[2] == "meeting" && names[1] == "meetings")
                {
                    tenants[^1] = reader.ReadElementContentAsString();
                    continue;
                }

                reader.Read();
            }

            return success ? tenants : null;
        }
        catch (XmlException)
        {
            return null;
        }
    }

    /// <summary>The byte ranges of the <c>meeting</c> elements directly inside <c>[start, end)</c>; null if the content cannot be scanned.</summary>
    internal static List<ArraySegment<byte>>? Elements(byte[] body, int start, int end)
    {
        var result = new List<ArraySegment<byte>>();
        var depth = 0;
        var elementStart = -1;
        var isMeeting = false;
        var i = start;
        while (i < end)
        {
            var lt = body.AsSpan(i, end - i).IndexOf((byte)'<');
            if (lt < 0)
            {
                break;
            }

            lt += i;
            var rest = body.AsSpan(lt, end - lt);
            if (rest.StartsWith("<![CDATA["u8))
            {
                i = Skip(body, lt, end, "]]>"u8);
            }
            else if (rest.StartsWith("<!--"u8))
            {
                i = Skip(body, lt, end, "-->"u8);
            }
            else if (rest.StartsWith("<?"u8) || rest.StartsWith("<!"u8))
            {
                i = Skip(body, lt, end, ">"u8);
            }
            else
            {
                var gt = TagEnd(body, lt, end);
                if (gt < 0)
                {
                    return null;
                }

                if (body[lt + 1] == (byte)'/')
                {
                    depth--;
                    if (depth < 0)
                    {
                        return null;
                    }

                    if (depth == 0 && isMeeting)
                    {
                        result.Add(new ArraySegment<byte>(body, elementStart, gt + 1 - elementStart));
                    }
                }
                else
                {
                    var selfClosing = body[gt - 1] == (byte)'/';
                    if (depth == 0)
                    {
                        elementStart = lt;
                        isMeeting = IsMeetingTag(body.AsSpan(lt + 1, gt - lt - 1));
                        if (selfClosing && isMeeting)
                        {
                            result.Add(new ArraySegment<byte>(body, lt, gt + 1 - lt));
                        }
                    }

                    if (!selfClosing)
                    {
                        depth++;
                    }
                }

                i = gt + 1;
            }

            if (i < 0)
            {
                return null;
            }
        }

        return depth == 0 ? result : null;
    }

    private static bool IsMeetingTag(ReadOnlySpan<byte> tag) =>
        tag.StartsWith("meeting"u8) && (tag.Length == 7 || tag[7] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'/');

    /// <summary>The index just after <paramref name="terminator"/>, searched from <paramref name="from"/>; -1 when absent.</summary>
    private static int Skip(byte[] body, int from, int end, ReadOnlySpan<byte> terminator)
    {
        var at = body.AsSpan(from, end - from).IndexOf(terminator);
        return at < 0 ? -1 : from + at + terminator.Length;
    }

    /// <summary>The index of the <c>&gt;</c> that ends the tag opened at <paramref name="lt"/>, past quoted attribute values.</summary>
    private static int TagEnd(byte[] body, int lt, int end)
    {
        byte quote = 0;
        for (var i = lt + 1; i < end; i++)
        {
            var b = body[i];
            if (quote != 0)
            {
                if (b == quote)
                {
                    quote = 0;
                }
            }
            else if (b is (byte)'"' or (byte)'\'')
            {
                quote = b;
            }
            else if (b == (byte)'>')
            {
                return i;
            }
        }

        return -1;
    }
}
