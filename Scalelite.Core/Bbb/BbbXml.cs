using System.Text;
using System.Xml;

namespace Scalelite.Core.Bbb;

/// <summary>Writes BBB's <c>&lt;response&gt;</c> envelope.</summary>
public static class BbbXml
{
    private static readonly XmlWriterSettings Settings = new()
    {
        Encoding = new UTF8Encoding(false),
        OmitXmlDeclaration = false,
        Indent = false,
        Async = false,
        // Invalid XML characters coming from a client or a backend must not break the answer.
        CheckCharacters = false,
    };

    /// <summary>Builds a SUCCESS answer whose body is written by <paramref name="body"/> after the returncode.</summary>
    public static byte[] Success(Action<XmlWriter>? body = null) => Write("SUCCESS", body);

    public static byte[] Success(string messageKey, string message, Action<XmlWriter>? body = null) => Write("SUCCESS", w =>
    {
        body?.Invoke(w);
        w.WriteElementString("messageKey", messageKey);
        w.WriteElementString("message", message);
    });

    public static byte[] Failed(BbbError error) => Write("FAILED", w =>
    {
        w.WriteElementString("messageKey", error.MessageKey);
        w.WriteElementString("message", error.Message);
    });

    public static byte[] Write(string returnCode, Action<XmlWriter>? body)
    {
        using var stream = new MemoryStream(256);
        using (var writer = XmlWriter.Create(stream, Settings))
        {
            writer.WriteStartElement("response");
            writer.WriteElementString("returncode", returnCode);
            body?.Invoke(writer);
            writer.WriteEndElement();
        }

        return stream.ToArray();
    }

    /// <summary>Writes a string with characters XML 1.0 forbids removed, so that odd input never breaks a document.</summary>
    public static void WriteSafeString(this XmlWriter writer, string name, string? value)
    {
        writer.WriteStartElement(name);
        if (!string.IsNullOrEmpty(value))
        {
            writer.WriteString(StripInvalid(value));
        }

        writer.WriteEndElement();
    }

    public static string StripInvalid(string value)
    {
        foreach (var c in value)
        {
            if (!XmlConvert.IsXmlChar(c) && !char.IsSurrogate(c))
            {
                var sb = new StringBuilder(value.Length);
                foreach (var ch in value)
                {
                    if (XmlConvert.IsXmlChar(ch) || char.IsSurrogate(ch))
                    {
                        sb.Append(ch);
                    }
                }

                return sb.ToString();
            }
        }

        return value;
    }
}
