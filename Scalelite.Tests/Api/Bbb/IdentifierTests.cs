using System.Xml.Linq;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Bbb;

/// <summary>
/// Identifiers are checked before they are logged, stored or sent to a server: a meetingID follows BBB's rule
/// (2 to 256 characters, no comma) and no identifier carries control characters.
/// </summary>
public sealed class IdentifierTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>, IAsyncLifetime
{
    private PoolHarness _pool = null!;

    public async Task InitializeAsync() => _pool = await PoolHarness.StartAsync(infrastructure, simulators: 2);

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    public static TheoryData<string, string> BadMeetingIds()
    {
        var data = new TheoryData<string, string>();
        foreach (var call in new[] { "create", "join", "end", "getMeetingInfo", "isMeetingRunning" })
        {
            foreach (var id in new[] { "x", new string('m', 257), new string('m', 10_000), "a,b", "a\nINFO forged", "a\r\nforged", "a\0b", "a\tb", "a\u001b[2Jb", "a\u0085b", "a\u2028b" })
            {
                data.Add(call, id);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadMeetingIds))]
    public async Task MeetingCall_MeetingIdBreakingBbbsRule_IsValidationErrorWithoutAnyServerCall(string call, string meetingId)
    {
        var before = ServerCalls();

        var answer = await CallAsync(call, ("meetingID", meetingId), ("name", "n"), ("fullName", "Alice"), ("password", "mp"));

        XmlAssert.Failed(answer, "validationError");
        Assert.Equal(before, ServerCalls());
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Réunion d'équipe #3 (salle 2)")]
    [InlineData(" spaces; semicolons: colons/slashes ")]
    public async Task Create_MeetingIdWithinTheRule_Works(string meetingId)
    {
        var answer = await _pool.Client.CreateAsync(meetingId);

        XmlAssert.Success(answer);
        Assert.Equal(meetingId, answer.Element("meetingID")?.Value);
    }

    [Fact]
    public async Task Create_MeetingIdOf256Characters_Works()
    {
        var meetingId = new string('m', 256);
        XmlAssert.Success(await _pool.Client.CreateAsync(meetingId));
        using var join = await _pool.Client.JoinAsync(meetingId);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, join.StatusCode);
    }

    [Theory]
    [InlineData("getRecordings", "meetingID", "a\nb")]
    [InlineData("getRecordings", "recordID", "r1,r\0")]
    [InlineData("publishRecordings", "recordID", "r\r\n")]
    [InlineData("deleteRecordings", "recordID", "r\u0007")]
    [InlineData("updateRecordings", "recordID", "r\n")]
    public async Task RecordingCall_IdentifierWithControlCharacters_IsValidationError(string call, string name, string value) =>
        XmlAssert.Failed(await CallAsync(call, (name, value), ("publish", "true")), "validationError");

    [Fact]
    public async Task GetRecordings_OneCharacterMeetingIdOfAnOldRecording_IsStillAFilter()
    {
        var answer = await CallAsync("getRecordings", ("meetingID", "x"));
        XmlAssert.Success(answer);
        Assert.Equal("noRecordings", answer.Element("messageKey")?.Value);
    }

    private Task<XElement> CallAsync(string call, params (string Key, string Value)[] parameters) => _pool.Client.CallAsync(call, parameters);

    private long ServerCalls() => _pool.Simulators.Servers.Sum(s => s.GetCallCounts().Values.Sum());
}
