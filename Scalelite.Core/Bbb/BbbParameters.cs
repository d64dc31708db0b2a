using System.Text;

namespace Scalelite.Core.Bbb;

/// <summary>
/// The parameters of one BBB call, decoded, in the order the client gave them.
/// Keys compare ordinally, as BBB does (<c>meetingID</c> is not <c>meetingid</c>).
/// </summary>
public sealed class BbbParameters : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items;

    public BbbParameters() => _items = [];

    public BbbParameters(IEnumerable<KeyValuePair<string, string>> items) => _items = [.. items];

    public int Count => _items.Count;

    /// <summary>The first value of <paramref name="key"/>, or null.</summary>
    public string? this[string key]
    {
        get
        {
            foreach (var item in _items)
            {
                if (string.Equals(item.Key, key, StringComparison.Ordinal))
                {
                    return item.Value;
                }
            }

            return null;
        }
    }

    public bool Contains(string key) => this[key] is not null;

    /// <summary>Replaces every value of <paramref name="key"/> with one value, keeping the first one's position.</summary>
    public BbbParameters Set(string key, string value)
    {
        var index = _items.FindIndex(i => string.Equals(i.Key, key, StringComparison.Ordinal));
        if (index < 0)
        {
            _items.Add(new(key, value));
            return this;
        }

        // Removing every copy leaves the items before the first one in place, so the index still holds.
        _items.RemoveAll(i => string.Equals(i.Key, key, StringComparison.Ordinal));
        _items.Insert(index, new(key, value));
        return this;
    }

    public BbbParameters Add(string key, string value)
    {
        _items.Add(new(key, value));
        return this;
    }

    public BbbParameters Remove(string key)
    {
        _items.RemoveAll(i => string.Equals(i.Key, key, StringComparison.Ordinal));
        return this;
    }

    public BbbParameters Clone() => new(_items);

    /// <summary>The parameters as a query string, each part percent-encoded (RFC 3986; spaces as <c>%20</c>).</summary>
    public string ToQueryString()
    {
        var sb = new StringBuilder(_items.Count * 24);
        foreach (var (key, value) in _items)
        {
            if (sb.Length > 0)
            {
                sb.Append('&');
            }

            sb.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
        }

        return sb.ToString();
    }

    /// <summary>
    /// Decodes an <c>application/x-www-form-urlencoded</c> string (a query or a form body) strictly:
    /// <c>+</c> is a space, and a value whose bytes are not valid UTF-8 makes the whole input invalid.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> encoded, out BbbParameters parameters)
    {
        parameters = new BbbParameters();
        if (!encoded.IsEmpty && encoded[0] == '?')
        {
            encoded = encoded[1..];
        }

        foreach (var range in encoded.Split('&'))
        {
            var part = encoded[range];
            if (part.IsEmpty)
            {
                continue;
            }

            var eq = part.IndexOf('=');
            var rawKey = eq < 0 ? part : part[..eq];
            var rawValue = eq < 0 ? [] : part[(eq + 1)..];
            if (!TryDecode(rawKey, out var key) || !TryDecode(rawValue, out var value))
            {
                return false;
            }

            parameters._items.Add(new(key, value));
        }

        return true;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    private static bool TryDecode(ReadOnlySpan<char> raw, out string decoded)
    {
        if (raw.IndexOfAny('%', '+') < 0)
        {
            decoded = raw.ToString();
            return true;
        }

        var bytes = new byte[raw.Length * 3];
        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '+')
            {
                bytes[n++] = (byte)' ';
            }
            else if (c == '%' && i + 2 < raw.Length && IsHex(raw[i + 1]) && IsHex(raw[i + 2]))
            {
                bytes[n++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 2;
            }
            else
            {
                n += Encoding.UTF8.GetBytes(raw.Slice(i, 1), bytes.AsSpan(n));
            }
        }

        try
        {
            decoded = StrictUtf8.GetString(bytes, 0, n);
            return true;
        }
        catch (DecoderFallbackException)
        {
            decoded = string.Empty;
            return false;
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
