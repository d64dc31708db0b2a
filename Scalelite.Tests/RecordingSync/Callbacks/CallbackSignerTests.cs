using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Scalelite.RecordingSync.Callbacks;

namespace Scalelite.Tests.RecordingSync.Callbacks;

public sealed class CallbackSignerTests
{
    [Fact]
    public void Sign_ShortSecret_IsHs256JwtOfMeetingAndRecord()
    {
        var jwt = CallbackSigner.Sign("short", "meeting-1", "rec-1");

        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        Assert.Equal("HS256", header.RootElement.GetProperty("alg").GetString());
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        Assert.Equal("meeting-1", payload.RootElement.GetProperty("meeting_id").GetString());
        Assert.Equal("rec-1", payload.RootElement.GetProperty("record_id").GetString());
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes("short"), Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
        Assert.Equal(expected, Base64Url.DecodeFromChars(parts[2]));
    }
}
