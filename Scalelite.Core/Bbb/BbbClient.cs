using System.Diagnostics;
using System.Net;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using Scalelite.Core.Configuration;
using Scalelite.Core.Pool;

namespace Scalelite.Core.Bbb;

/// <summary>A backend's answer, or why there was none. A failed call is a result, not an exception.</summary>
public sealed class BackendResponse
{
    private XDocument? _xml;
    private bool _parsed;

    private BackendResponse(HttpStatusCode status, byte[] body, string? error)
    {
        Status = status;
        Body = body;
        Error = error;
    }

    public HttpStatusCode Status { get; }

    public byte[] Body { get; }

    /// <summary>Why no usable answer came (connection refused, timeout, not XML, HTTP error); null when one did.</summary>
    public string? Error { get; private set; }

    public XDocument? Xml
    {
        get
        {
            if (!_parsed)
            {
                _parsed = true;
                _xml = TryParse(Body);
                if (_xml?.Root?.Name.LocalName != "response" && Error is null)
                {
                    Error = "The server's answer is not a BBB response.";
                    _xml = null;
                }
            }

            return _xml;
        }
    }

    /// <summary>An answer arrived and it is a BBB response (SUCCESS or FAILED).</summary>
    public bool Answered => Error is null && Xml is not null;

    public string? ReturnCode => Xml?.Root?.Element("returncode")?.Value;

    public bool IsSuccess => Answered && ReturnCode == "SUCCESS";

    public string? MessageKey => Xml?.Root?.Element("messageKey")?.Value;

    public string? Message => Xml?.Root?.Element("message")?.Value;

    public string? Element(string name) => Xml?.Root?.Element(name)?.Value;

    public static BackendResponse Received(HttpStatusCode status, byte[] body) =>
        new(status, body, status == HttpStatusCode.OK ? null : $"HTTP {(int)status}");

    public static BackendResponse Failed(string error) => new(0, [], error);

    private static XDocument? TryParse(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            using var stream = new MemoryStream(body);
            using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader);
        }
        catch (XmlException)
        {
            return null;
        }
    }
}

/// <summary>Calls BBB servers with their own secret. Plain timeouts, no retries: the poller must see every failure.</summary>
public sealed class BbbClient : IDisposable
{
    public static readonly ActivitySource ActivitySource = new("Scalelite.Backend");
    private readonly HttpClient _http;
    private readonly IOptionsMonitor<BackendOptions> _backend;
    private readonly ChecksumAlgorithm _algorithm;

    public BbbClient(IOptionsMonitor<BackendOptions> backend, IOptions<ScaleliteOptions> scalelite)
    {
        _backend = backend;
        _algorithm = scalelite.Value.BackendAlgorithm();
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(backend.CurrentValue.ConnectTimeout),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            MaxConnectionsPerServer = 256,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            UseCookies = false,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Scalelite.NET");
    }

    /// <summary>The signed URL of a call on a server (also the join redirect target).</summary>
    public string BuildUrl(ServerSnapshot server, string call, BbbParameters parameters)
    {
        var query = parameters.ToQueryString();
        var checksum = Checksum.Compute(_algorithm, call, query, server.Secret);
        return query.Length == 0
            ? $"{server.Url}/{call}?checksum={checksum}"
            : $"{server.Url}/{call}?{query}&checksum={checksum}";
    }

    public Task<BackendResponse> GetAsync(ServerSnapshot server, string call, BbbParameters parameters, TimeSpan? timeout = null, CancellationToken ct = default) =>
        SendAsync(server, call, parameters, null, timeout, ct);

    public Task<BackendResponse> PostAsync(ServerSnapshot server, string call, BbbParameters parameters, HttpContent body, TimeSpan? timeout = null, CancellationToken ct = default) =>
        SendAsync(server, call, parameters, body, timeout, ct);

    private async Task<BackendResponse> SendAsync(ServerSnapshot server, string call, BbbParameters parameters, HttpContent? body, TimeSpan? timeout, CancellationToken ct)
    {
        using var activity = ActivitySource.StartActivity($"bbb {call}", ActivityKind.Client);
        activity?.SetTag("scalelite.server.id", server.Id);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(_backend.CurrentValue.ResponseTimeout));
        try
        {
            using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, BuildUrl(server, call, parameters)) { Content = body };
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cts.Token);
            var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token);
            return BackendResponse.Received(response.StatusCode, bytes);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "timeout");
            return BackendResponse.Failed("Timed out.");
        }
        catch (HttpRequestException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return BackendResponse.Failed(ex.Message);
        }
    }

    public void Dispose() => _http.Dispose();
}
