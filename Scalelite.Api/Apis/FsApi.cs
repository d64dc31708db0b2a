using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Scalelite.Api.FreeSwitch;
using Scalelite.Api.Meetings;
using Scalelite.Core.Configuration;
using Scalelite.Core.Meetings;
using Scalelite.Core.Pool;
using Scalelite.Core.State;

namespace Scalelite.Api.Apis;

/// <summary>
/// FreeSWITCH dial-in: the dialplan lookup that mod_xml_curl POSTs for every call, answered as Scalelite answers it,
/// so an existing FreeSWITCH gateway keeps working when pointed here.
/// </summary>
/// <remarks>
/// A call arrives without a PIN: the answer prompts for one and sends the call back with <c>variable_pin</c> set. A PIN
/// that is a running meeting's voice bridge is bridged to the server that runs it; a PIN one digit longer than a
/// voice bridge (more than 5 digits) reaches that meeting too, because BBB numbers a breakout room by appending a digit
/// to its parent's number and runs it on the same server. Any other PIN is asked for again. The lookup is one Redis
/// round trip (<see cref="MeetingRegistry.FindByVoiceBridgeAsync"/>; while Redis is down the servers are asked instead,
/// see <see cref="MeetingLocator.FindByVoiceBridgeAsync"/>) and the server comes from the in-memory directory. Not tenant-aware, as in Scalelite (its issue 980): a PIN reaches any meeting.
/// </remarks>
public static partial class FsApi
{
    public const string Path = "/fsapi";

    public static IEndpointRouteBuilder MapFsApi(this IEndpointRouteBuilder app)
    {
        // Bound once, as the BBB handlers' dependencies are: no request scope.
        var services = app.ServiceProvider.GetRequiredService<FsApiServices>();
        app.MapPost(Path, (Delegate)((HttpContext context) => Dialplan(context, services)));
        return app;
    }

    public static IHostApplicationBuilder AddFsApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FsApiOptions>().BindConfiguration(FsApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<FsApiServices>();
        return builder;
    }

    private const string XmlContentType = "application/xml; charset=utf-8";

    public static async Task<IResult> Dialplan(HttpContext context, FsApiServices s)
    {
        var options = s.Options.Value;
        var balancer = s.Balancer.Value;
        if (options.EffectivePassword(balancer) is { } password && !Authenticated(context.Request, password))
        {
            var realm = (balancer.UrlHost is { Length: > 0 } host ? host : context.Request.Host.Host).Replace("\"", string.Empty, StringComparison.Ordinal);
            context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{realm}\"";
            return Results.Text("HTTP Basic: Access denied.\n", "text/plain; charset=utf-8", Encoding.UTF8, StatusCodes.Status401Unauthorized);
        }

        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        string? Param(string name) => Last(form?[name] ?? default) ?? Last(context.Request.Query[name]);

        var destination = Param("Caller-Destination-Number");
        if (Param("section") != "dialplan" || string.IsNullOrWhiteSpace(destination))
        {
            return Xml(FreeSwitch.Dialplan.NotFound());
        }

        var pin = Param("variable_pin");
        if (string.IsNullOrWhiteSpace(pin))
        {
            return Xml(FreeSwitch.Dialplan.PinPrompt(destination, options.VoiceBridgeMin, options.VoiceBridgeMax, options.HangUpAfterSeconds(balancer)));
        }

        var holder = await s.Locator.FindByVoiceBridgeAsync(pin, pin.Length > 5 ? pin[..^1] : null, context.RequestAborted);
        var server = holder is null ? null : await s.Directory.ResolveAsync(holder.ServerId, context.RequestAborted);
        if (holder is null || server is null || !Uri.TryCreate(server.Url, UriKind.Absolute, out var url))
        {
            Log.Reprompt(s.Logger, pin);
            return Xml(FreeSwitch.Dialplan.Reprompt(destination, options.VoiceBridgeMin, options.VoiceBridgeMax));
        }

        var callerId = FreeSwitch.Dialplan.CallerId(Param("Caller-Caller-ID-Name"), Param("Caller-Privacy-Hide-Name"), Param("Caller-Privacy-Hide-Number"));
        Log.Bridging(s.Logger, holder.MeetingId, server.Id, MeetingIdentity.HostOf(server.Url), holder.TenantId);
        return Xml(FreeSwitch.Dialplan.Bridge(destination, holder.MeetingId, callerId, pin, url.Host));
    }

    private static IResult Xml(string document) => Results.Text(document, XmlContentType, Encoding.UTF8);

    // Rails keeps the last of repeated parameters.
    private static string? Last(StringValues values) => values.Count == 0 ? null : values[^1];

    /// <summary>HTTP Basic as user <c>fsapi</c>; the password compared in constant time.</summary>
    private static bool Authenticated(HttpRequest request, string password)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var separator = credentials.IndexOf(':', StringComparison.Ordinal);
        return separator >= 0 && credentials[..separator] == "fsapi"
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credentials[(separator + 1)..]), Encoding.UTF8.GetBytes(password));
    }

    private static partial class Log
    {
        // The meeting's fields as every meeting event names them (MeetingEvents); the dial-in never learns the internalMeetingID.
        [LoggerMessage(1, LogLevel.Information, "Dial-in: bridging a call into the meeting; meetingID={meetingID} serverId={serverId} serverHost={serverHost} tenant={tenant}")]
        public static partial void Bridging(ILogger logger, string meetingId, string serverId, string serverHost, string tenant);

        [LoggerMessage(2, LogLevel.Information, "Dial-in: PIN {Pin} matches no running meeting; asking again")]
        public static partial void Reprompt(ILogger logger, string pin);
    }
}

/// <summary>What the dial-in handler depends on, bound once (all singletons).</summary>
public sealed class FsApiServices(
    MeetingLocator locator,
    IServerDirectory directory,
    IOptions<FsApiOptions> options,
    IOptions<ScaleliteOptions> balancer,
    ILoggerFactory loggers)
{
    public MeetingLocator Locator { get; } = locator;

    public IServerDirectory Directory { get; } = directory;

    public IOptions<FsApiOptions> Options { get; } = options;

    public IOptions<ScaleliteOptions> Balancer { get; } = balancer;

    public ILogger Logger { get; } = loggers.CreateLogger(typeof(FsApi).FullName!);
}
