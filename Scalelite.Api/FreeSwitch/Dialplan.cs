using System.Globalization;
using System.Text;

namespace Scalelite.Api.FreeSwitch;

/// <summary>
/// The dialplan documents FreeSWITCH's mod_xml_curl gets from <c>/fsapi</c>, written as Scalelite writes them
/// (element for element, attribute for attribute, two-space indentation, no XML declaration).
/// </summary>
/// <remarks>
/// Values that reach FreeSWITCH's variable expansion (the destination's pattern, meeting id, caller name, PIN) are
/// escaped first: a backslash is doubled and <c>${</c> becomes <c>\${</c>, so a caller cannot make FreeSWITCH expand
/// a variable; a <c>$</c> not followed by <c>{</c> stays, because FreeSWITCH only unescapes a string that contains
/// <c>${</c> or an escape. The destination number is matched literally: it is regex-escaped as Ruby's
/// <c>Regexp.escape</c> does before that. The reprompt's digit pattern is <c>d+</c>, not <c>\d+</c>: Scalelite's
/// template loses the backslash, and FreeSWITCH callers have lived with that answer.
/// </remarks>
public static class Dialplan
{
    private const string Digits = "3 7000 # conference/conf-enter_conf_pin.wav conference/conf-bad-pin.wav pin";

    /// <summary>Not a dialplan request, or no destination: FreeSWITCH falls back to its own dialplan.</summary>
    public static string NotFound()
    {
        var xml = new Writer();
        xml.Open("document", ("type", "freeswitch/xml"));
        xml.Open("section", ("name", "result"));
        xml.Empty("result", ("status", "not found"));
        xml.Close();
        xml.Close();
        return xml.ToString();
    }

    /// <summary>Answers the call and asks for the conference PIN, then sends the call back here with it.</summary>
    /// <param name="hangUpAfterSeconds">A hang-up timer for the call; 0 sets none.</param>
    public static string PinPrompt(string destination, int minDigits, int maxDigits, long hangUpAfterSeconds) =>
        Extension(destination, "Match DID and Pin for Conference", "match_did_and_prompt_for_pin", xml =>
        {
            xml.Action("answer");
            if (hangUpAfterSeconds > 0)
            {
                xml.Action("sched_hangup", string.Create(CultureInfo.InvariantCulture, $"+{hangUpAfterSeconds} normal_clearing"));
            }

            xml.Action("sleep", "500");
            xml.Action("playback", "ivr/ivr-welcome.wav");
            xml.Action("sleep", "200");
            xml.Action("play_and_get_digits", string.Create(CultureInfo.InvariantCulture, $"{minDigits} {maxDigits} {Digits} \\d+"));
            xml.Action("transfer", "${pin} XML public");
        });

    /// <summary>The PIN matched no running meeting: says so and asks again.</summary>
    public static string Reprompt(string destination, int minDigits, int maxDigits) =>
        Extension(destination, "Reprompt Pin for Conference", "reprompt_for_pin", xml =>
        {
            xml.Action("playback", "conference/conf-bad-pin.wav");
            xml.Action("sleep", "500");
            xml.Action("play_and_get_digits", string.Create(CultureInfo.InvariantCulture, $"{minDigits} {maxDigits} {Digits} d+"));
            xml.Action("transfer", "${pin} XML public");
        });

    /// <summary>Bridges the call to the BBB server that runs the meeting.</summary>
    /// <param name="host">The server's host name (no port): FreeSWITCH dials the PIN at it.</param>
    public static string Bridge(string destination, string meetingId, string callerId, string pin, string host) =>
        Extension(destination, "Bridge Call to BBB Server", "bridge_to_bbb_server", xml =>
        {
            xml.Action("set", "meeting_id=" + Escape(meetingId));
            xml.Action("set", "effective_caller_id_name=" + Escape(callerId));
            xml.Action("bridge", $"sofia/external/{Escape(pin)}@{host}");
        });

    /// <summary>
    /// The caller ID shown in the meeting: a numeric caller name (a phone number) with its last four digits masked,
    /// unless the caller hides the number; any other name unless the caller hides it; else <c>Unavailable</c>.
    /// </summary>
    /// <remarks>Only the exact value <c>true</c> of a privacy flag counts. Hide-Name does not apply to a numeric name.</remarks>
    public static string CallerId(string? name, string? hideName, string? hideNumber)
    {
        string? shown = null;
        if (!string.IsNullOrEmpty(name) && name.All(char.IsAsciiDigit))
        {
            if (hideNumber != "true")
            {
                var kept = Math.Max(0, name.Length - 4);
                shown = name[..kept] + new string('X', name.Length - kept);
            }
        }
        else if (hideName != "true")
        {
            shown = name;
        }

        return string.IsNullOrWhiteSpace(shown) ? "Unavailable" : shown;
    }

    /// <summary>Makes a value safe from FreeSWITCH's variable expansion (see the remarks).</summary>
    public static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("${", "\\${", StringComparison.Ordinal);

    /// <summary>A literal as a regular expression, escaped as Ruby's <c>Regexp.escape</c> escapes it.</summary>
    public static string RegexEscape(string value)
    {
        var escaped = new StringBuilder(value.Length * 2);
        foreach (var c in value)
        {
            _ = c switch
            {
                '[' or ']' or '{' or '}' or '(' or ')' or '|' or '-' or '*' or '.' or '\\' or '?' or '+' or '^' or '$' or '#' => escaped.Append('\\').Append(c),
                ' ' => escaped.Append("\\ "),
                '\t' => escaped.Append("\\t"),
                '\f' => escaped.Append("\\f"),
                '\v' => escaped.Append("\\v"),
                '\n' => escaped.Append("\\n"),
                '\r' => escaped.Append("\\r"),
                _ => escaped.Append(c),
            };
        }

        return escaped.ToString();
    }

    private static string Extension(string destination, string description, string name, Action<Writer> actions)
    {
        var xml = new Writer();
        xml.Open("document", ("type", "freeswitch/xml"));
        xml.Open("section", ("name", "dialplan"), ("description", description));
        xml.Open("context", ("name", "public"));
        xml.Open("extension", ("name", name));
        xml.Open("condition", ("field", "destination_number"), ("expression", $"^{Escape(RegexEscape(destination))}$"));
        actions(xml);
        xml.Close();
        xml.Close();
        xml.Close();
        xml.Close();
        xml.Close();
        return xml.ToString();
    }

    /// <summary>Writes elements as Ruby's Builder does with <c>indent: 2</c>.</summary>
    private sealed class Writer
    {
        private readonly StringBuilder _text = new();
        private readonly Stack<string> _open = new();

        public void Open(string name, params (string Name, string Value)[] attributes)
        {
            Start(name, attributes);
            _text.Append(">\n");
            _open.Push(name);
        }

        public void Empty(string name, params (string Name, string Value)[] attributes)
        {
            Start(name, attributes);
            _text.Append("/>\n");
        }

        public void Action(string application, string? data = null)
        {
            if (data is null)
            {
                Empty("action", ("application", application));
            }
            else
            {
                Empty("action", ("application", application), ("data", data));
            }
        }

        public void Close()
        {
            var name = _open.Pop();
            _text.Append(' ', _open.Count * 2).Append("</").Append(name).Append(">\n");
        }

        public override string ToString() => _text.ToString();

        private void Start(string name, (string Name, string Value)[] attributes)
        {
            _text.Append(' ', _open.Count * 2).Append('<').Append(name);
            foreach (var (key, value) in attributes)
            {
                _text.Append(' ').Append(key).Append("=\"").Append(Attribute(value)).Append('"');
            }
        }

        private static string Attribute(string value)
        {
            var escaped = new StringBuilder(value.Length + 16);
            foreach (var c in value)
            {
                _ = c switch
                {
                    '&' => escaped.Append("&amp;"),
                    '<' => escaped.Append("&lt;"),
                    '>' => escaped.Append("&gt;"),
                    '"' => escaped.Append("&quot;"),
                    '\n' => escaped.Append("&#10;"),
                    '\r' => escaped.Append("&#13;"),
                    // Characters XML cannot carry become '*', as Builder writes them.
                    _ when c < ' ' && c != '\t' => escaped.Append('*'),
                    _ => escaped.Append(c),
                };
            }

            return escaped.ToString();
        }
    }
}
