using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The answer of <c>/health</c>: the status word for probes, and every check with its data for an operator.
/// </summary>
/// <remarks>
/// Orchestrators and load balancers read only the status code, and existing probes may match the body, so an anonymous
/// caller gets the framework's plain <c>Healthy</c>/<c>Degraded</c>/<c>Unhealthy</c>. A caller presenting the operator
/// token (<see cref="OperatorBearer"/>) gets JSON with each check's status, description, duration and data (which
/// Poller leads, why a check is degraded): details that name servers and errors, which nobody outside should read.
/// </remarks>
public static class HealthReportWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        if (!OperatorBearer.IsPresented(context))
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(report.Status.ToString());
        }

        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(Json(report), context.RequestAborted).AsTask();
    }

    // Built in memory (a report is small): the serializer flushes synchronously, which the server's body refuses. The
    // answer is JSON for people and tools, never HTML: times keep their '+' rather than \u002B.
    private static ReadOnlyMemory<byte> Json(HealthReport report)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteNumber("durationMs", Math.Round(report.TotalDuration.TotalMilliseconds, 1));
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description);
            json.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            if (entry.Exception is { } failure)
            {
                json.WriteString("error", failure.Message);
            }

            if (entry.Data.Count > 0)
            {
                json.WriteStartObject("data");
                foreach (var (key, value) in entry.Data)
                {
                    json.WritePropertyName(key);
                    JsonSerializer.Serialize(json, value, value?.GetType() ?? typeof(object));
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
        return buffer.WrittenMemory;
    }
}
