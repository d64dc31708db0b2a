using System.Text;
using Microsoft.Extensions.Options;
using Scalelite.Core.Bbb;
using Scalelite.Core.Configuration;
using Scalelite.Core.Tenancy;

namespace Scalelite.Api.Bbb;

/// <summary>
/// Reads a BBB API request (query string, form body, multipart or XML body), resolves its tenant and checks
/// its checksum. Every way it can go wrong ends in a <see cref="BbbError"/>, never an exception.
/// </summary>
/// <remarks>
/// Form-bodied POSTs are accepted with the checksum computed over the raw query string (often empty,
/// as Scalelite and the BBB docs do) or over the body parameters sorted by key and URL-encoded (as the
/// BBB 3.x server does). A parameter given both in the query and in the body is refused, so that what
/// was signed is what is used. Identifiers are checked last (<see cref="BbbIdentifiers"/>).
/// </remarks>
public sealed class BbbRequestReader(ITenantResolver tenants, IOptions<ScaleliteOptions> options)
{
    private readonly ChecksumAlgorithms _algorithms = options.Value.AcceptedAlgorithms();
    private readonly int _maxLength = options.Value.MaxQueryLength;

    public async Task<(BbbRequest? Request, BbbError? Error)> ReadAsync(HttpContext context, string call)
    {
        var http = context.Request;
        var rawQuery = http.QueryString.HasValue ? http.QueryString.Value![1..] : string.Empty;
        if (rawQuery.Length > _maxLength)
        {
            return (null, BbbError.InvalidParameters);
        }

        if (Tenant(context) is not { } tenant)
        {
            return (null, BbbError.ChecksumError);
        }

        var (signedQuery, checksum) = Checksum.SplitChecksum(rawQuery);
        if (!BbbParameters.TryParse(signedQuery, out var parameters))
        {
            return (null, checksum is not null && Checksum.Verify(call, signedQuery, checksum, tenant.Secrets, _algorithms)
                ? BbbError.InvalidParameters
                : BbbError.ChecksumError);
        }

        byte[]? xmlBody = null;
        string? xmlType = null;
        List<string> signedForms = [signedQuery];
        if (HttpMethods.IsPost(http.Method) && HasBody(http))
        {
            var kind = BodyKind(http.ContentType);
            switch (kind)
            {
                case Body.Xml:
                    xmlBody = await ReadLimitedAsync(http, 32 * _maxLength, context.RequestAborted);
                    if (xmlBody is null)
                    {
                        return (null, BbbError.InvalidParameters);
                    }

                    xmlType = http.ContentType;
                    break;
                case Body.Form or Body.Multipart:
                    var (form, formChecksum, formError, rawForm) = await ReadFormAsync(http, kind, context.RequestAborted);
                    if (formError is not null)
                    {
                        return (null, formError);
                    }

                    foreach (var (key, value) in form!)
                    {
                        if (parameters.Contains(key))
                        {
                            return (null, BbbError.DuplicateParameter);
                        }

                        parameters.Add(key, value);
                    }

                    if (formChecksum is not null)
                    {
                        if (checksum is not null)
                        {
                            return (null, BbbError.DuplicateParameter);
                        }

                        checksum = formChecksum;
                    }

                    signedForms.Add(SortedJavaEncoded(form!));
                    signedForms.Add(SortedEncoded(form!));
                    if (rawForm is not null)
                    {
                        signedForms.Add(rawForm);
                    }

                    break;
                default:
                    return (null, BbbError.UnsupportedContentType);
            }
        }

        if (checksum is null || !signedForms.Any(q => Checksum.Verify(call, q, checksum, tenant.Secrets, _algorithms)))
        {
            return (null, BbbError.ChecksumError);
        }

        // As BBB: the checksum first, then the parameters. Nothing past this point logs or forwards a bad identifier.
        if (BbbIdentifiers.Check(call, parameters) is { } invalid)
        {
            return (null, invalid);
        }

        return (new BbbRequest { Call = call, Tenant = tenant, Parameters = parameters, XmlBody = xmlBody, XmlContentType = xmlType, HttpContext = context }, null);
    }

    private Tenant? Tenant(HttpContext context) => tenants.Resolve(context.Request);

    private enum Body { Other, Form, Multipart, Xml }

    private static Body BodyKind(string? contentType)
    {
        var media = contentType?.Split(';', 2)[0].Trim().ToLowerInvariant();
        return media switch
        {
            "application/x-www-form-urlencoded" => Body.Form,
            "multipart/form-data" => Body.Multipart,
            "application/xml" or "text/xml" => Body.Xml,
            _ => Body.Other,
        };
    }

    private static bool HasBody(HttpRequest http) =>
        http.ContentLength is > 0 || (http.ContentLength is null && http.Headers.TransferEncoding.Count > 0) || !string.IsNullOrEmpty(http.ContentType);

    private async Task<(BbbParameters? Form, string? Checksum, BbbError? Error, string? Raw)> ReadFormAsync(HttpRequest http, Body kind, CancellationToken ct)
    {
        if (kind == Body.Form)
        {
            var bytes = await ReadLimitedAsync(http, _maxLength, ct);
            if (bytes is null)
            {
                return (null, null, BbbError.InvalidParameters, null);
            }

            var text = DecodeUtf8(bytes);
            if (text is null)
            {
                return (null, null, BbbError.InvalidParameters, null);
            }

            if (text.TrimStart().StartsWith('<'))
            {
                // An XML document sent as a form: refuse it rather than guess.
                return (null, null, BbbError.UnsupportedContentType, null);
            }

            var (signed, checksum) = Checksum.SplitChecksum(text);
            return BbbParameters.TryParse(signed, out var form)
                ? (form, checksum, null, signed)
                : (null, null, BbbError.InvalidParameters, null);
        }

        IFormCollection collection;
        try
        {
            collection = await http.ReadFormAsync(ct);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return (null, null, BbbError.InvalidParameters, null);
        }

        var parameters = new BbbParameters();
        string? multipartChecksum = null;
        foreach (var (key, values) in collection)
        {
            foreach (var value in values)
            {
                if (key == "checksum")
                {
                    multipartChecksum = value;
                }
                else
                {
                    parameters.Add(key, value ?? string.Empty);
                }
            }
        }

        return (parameters, multipartChecksum, null, null);
    }

    private static string SortedEncoded(BbbParameters form) =>
        new BbbParameters(form.OrderBy(p => p.Key, StringComparer.Ordinal)).ToQueryString();

    /// <summary>
    /// The string the BBB 3.x server hashes for a form POST: parameters sorted by key, keys as they are, values
    /// encoded as Java's <c>URLEncoder</c> does (space as <c>+</c>; letters, digits and <c>.-*_</c> kept; every other
    /// UTF-8 byte as upper-case <c>%XX</c>).
    /// </summary>
    internal static string SortedJavaEncoded(BbbParameters form)
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in form.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (sb.Length > 0)
            {
                sb.Append('&');
            }

            sb.Append(key).Append('=');
            foreach (var b in Encoding.UTF8.GetBytes(value))
            {
                var c = (char)b;
                if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '*' or '_')
                {
                    sb.Append(c);
                }
                else if (c == ' ')
                {
                    sb.Append('+');
                }
                else
                {
                    sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        return sb.ToString();
    }

    private static async Task<byte[]?> ReadLimitedAsync(HttpRequest http, int limit, CancellationToken ct)
    {
        if (http.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await http.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException)
        {
            // A malformed chunk, a body past Kestrel's limit, one sent too slowly: the client's fault, answered as such.
            return null;
        }

        return buffer.ToArray();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private static string? DecodeUtf8(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
