using System.Text;
using System.Text.Json;
using Scalelite.Core.Bbb;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Api.Tenancy;

/// <summary>A tenant's secret rollover across API replicas: both secrets at once, then the old one refused everywhere at once.</summary>
public sealed class SecretRolloverTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task Rollover_OldSecretRemoved_IsRefusedImmediatelyOnEveryReplica()
    {
        // The periodic reload is an hour away: what reaches the other replica is the change announcement alone.
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1, ("Tenancy:ReloadInterval", "3600"));
        using var replica = await pool.StartApiReplicaAsync();
        var host = $"school.{TenantPool.UrlHost}";
        var clients = new Dictionary<string, BbbTestClient>
        {
            ["first replica, old secret"] = new(pool.ApiBase, "old-secret", host),
            ["first replica, new secret"] = new(pool.ApiBase, "new-secret", host),
            ["second replica, old secret"] = new(replica.BaseUrl, "old-secret", host),
            ["second replica, new secret"] = new(replica.BaseUrl, "new-secret", host),
        };

        try
        {
            // Through Scalelite's admin API on the first replica, as an operator's tooling would.
            var id = (await AdminAsync(pool.Client, "addTenant", new { tenant = new { name = "school", secrets = "old-secret:new-secret" } }))
                .GetProperty("tenant").GetProperty("id").GetString()!;
            foreach (var (name, client) in clients)
            {
                Assert.True((await client.CallAsync("getMeetings")).Element("returncode")!.Value == "SUCCESS", $"{name}: accepted while both are listed");
            }

            XmlAssert.Success(await clients["second replica, old secret"].CreateAsync("during-rollover"));

            await AdminAsync(pool.Client, "updateTenant", new { id, tenant = new { secrets = "new-secret" } });
            foreach (var (name, client) in clients)
            {
                var answer = await client.CallAsync("getMeetingInfo", ("meetingID", "during-rollover"));
                var expected = name.EndsWith("new secret", StringComparison.Ordinal) ? "SUCCESS" : "FAILED";
                Assert.True(answer.Element("returncode")!.Value == expected, $"{name}: {answer}");
                if (expected == "FAILED")
                {
                    XmlAssert.Failed(answer, "checksumError");
                }
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
    }

    private static async Task<JsonElement> AdminAsync(BbbTestClient client, string call, object body)
    {
        var url = client.BaseUrl.Replace("/bigbluebutton/api", "/scalelite/api", StringComparison.Ordinal);
        var checksum = Checksum.Compute(ChecksumAlgorithm.Sha256, call, string.Empty, client.Secret);
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await client.Http.PostAsync($"{url}/{call}?checksum={checksum}", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
