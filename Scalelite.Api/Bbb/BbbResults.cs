using Scalelite.Core.Bbb;

namespace Scalelite.Api.Bbb;

/// <summary>HTTP answers of the BBB API: XML on HTTP 200, as BBB sends it.</summary>
public static class BbbResults
{
    public const string XmlContentType = "text/xml; charset=utf-8";

    public static IResult Xml(byte[] body) => Results.Bytes(body, XmlContentType);

    public static IResult Failed(BbbError error) => Xml(BbbXml.Failed(error));

    /// <summary>A backend's answer, passed through as it came (SUCCESS or FAILED alike).</summary>
    public static IResult PassThrough(BackendResponse response) =>
        response.Answered ? Xml(response.Body) : Failed(BbbError.BackendUnreachable);
}
