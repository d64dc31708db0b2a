using Scalelite.Tests.Api.Recordings;
using Scalelite.Tests.Infrastructure;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Cli;

/// <summary><c>scalelite tenants ...</c> and <c>scalelite recordings assign-tenant</c> against a running pool, as an operator sees them.</summary>
public sealed class TenantCliTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    private static Task<(int Exit, string Out, string Err)> Run(PoolHarness pool, params string[] args) =>
        CliRunner.RunAsync([.. args, "--url", new Uri(pool.ApiBase).GetLeftPart(UriPartial.Authority), "--secret", PoolHarness.Secret]);

    [Fact]
    public async Task Tenants_AddSettingsLimitsUsageAndGuardedRemoval_AsAnOperatorSeesThem()
    {
        await using var pool = await TenantPool.StartAsync(infrastructure, simulators: 1);

        var (exit, output, err) = await Run(pool, "tenants", "add", "School1", "--secrets", "one:two", "--max-meetings", "3");
        Assert.True(exit == 0, err);
        Assert.StartsWith("Added tenant school1, id ", output, StringComparison.Ordinal);
        (exit, _, err) = await Run(pool, "tenants", "add", "school1", "--secrets", "three");
        Assert.Equal(1, exit);
        Assert.Contains("A tenant named school1 already exists", err, StringComparison.Ordinal);
        (exit, _, err) = await Run(pool, "tenants", "add", "nosecret");
        Assert.Equal(1, exit);
        Assert.Contains("--secrets", err, StringComparison.Ordinal);

        (exit, output, err) = await Run(pool, "tenants", "settings", "add", "school1", "record", "false");
        Assert.True(exit == 0, err);
        var settingId = output.Split(' ')[2].TrimEnd(':');
        (exit, output, _) = await Run(pool, "tenants", "settings", "add", "school1", "welcome", "Hello from school1", "--override", "--scope", "create");
        Assert.Equal(0, exit);
        Assert.Contains("welcome=Hello from school1 (override, create)", output, StringComparison.Ordinal);
        (exit, _, err) = await Run(pool, "tenants", "settings", "add", "school1", "meetingID", "x");
        Assert.Equal(1, exit);
        Assert.Contains("meetingID cannot be a tenant setting", err, StringComparison.Ordinal);

        (exit, output, _) = await Run(pool, "tenants", "settings", "list", "school1");
        Assert.Equal(0, exit);
        Assert.Contains(settingId, output, StringComparison.Ordinal);
        Assert.Contains("Hello from school1", output, StringComparison.Ordinal);

        // Usage against the limits, as the list shows it.
        using var lms = pool.HostClient("school1", "two");
        XmlAssert.Success(await lms.CreateAsync("cli-class"));
        (exit, output, _) = await Run(pool, "tenants", "list");
        Assert.Equal(0, exit);
        var row = output.Split('\n').Single(l => l.Contains("school1", StringComparison.Ordinal));
        Assert.Contains("1/3", row, StringComparison.Ordinal);
        Assert.Contains("Total number of tenants: 1", output, StringComparison.Ordinal);

        (exit, output, _) = await Run(pool, "tenants", "update", "school1", "--secrets", "two", "--max-meetings", "0", "--max-participants", "200");
        Assert.Equal(0, exit);
        Assert.Contains("1 secret(s), limits meetings -, participants 200, per meeting -", output, StringComparison.Ordinal);

        (exit, output, _) = await Run(pool, "tenants", "settings", "remove", "school1", settingId);
        Assert.Equal(0, exit);
        Assert.Contains($"Setting {settingId} was removed", output, StringComparison.Ordinal);

        (exit, _, err) = await Run(pool, "tenants", "remove", "school1");
        Assert.Equal(1, exit);
        Assert.Contains("409", err, StringComparison.Ordinal);
        Assert.Contains("still has 1 running meeting(s)", err, StringComparison.Ordinal);
        (exit, output, _) = await Run(pool, "tenants", "remove", "school1", "--force");
        Assert.Equal(0, exit);
        Assert.Contains("Tenant school1", output, StringComparison.Ordinal);
        (exit, output, _) = await Run(pool, "tenants", "list");
        Assert.Contains("No tenants.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssignTenant_RecordingsFromBeforeTenants_BecomeTheTenantsWithItsMetadata()
    {
        var volume = Directory.CreateTempSubdirectory("scalelite-assign-").FullName;
        try
        {
            await using var pool = await TenantPool.StartAsync(infrastructure, 1,
                ("Recording:PublishDir", Path.Combine(volume, "published")), ("Recording:UnpublishDir", Path.Combine(volume, "unpublished")));
            var data = new RecordingData(
                pool.ApiService<Microsoft.EntityFrameworkCore.IDbContextFactory<Scalelite.Core.Persistence.ScaleliteDbContext>>(),
                Path.Combine(volume, "published"), Path.Combine(volume, "unpublished"));
            await data.AddAsync(RecordingData.New("old-1", "m1"), RecordingData.New("old-2", "m2", RecordingData.Epoch.AddHours(1)));
            var tenant = await pool.AddTenantAsync("school", "school-secret");
            using var lms = pool.HostClient("school", "school-secret");
            Assert.Empty((await lms.CallAsync("getRecordings")).Element("recordings")?.Elements("recording") ?? []);

            var (exit, output, err) = await Run(pool, "recordings", "assign-tenant", "school", "--dry-run");
            Assert.True(exit == 0, err);
            Assert.Contains("2 recording(s) would be given to tenant school", output, StringComparison.Ordinal);
            Assert.Empty((await lms.CallAsync("getRecordings")).Element("recordings")?.Elements("recording") ?? []);

            (exit, output, _) = await Run(pool, "recordings", "assign-tenant", "school");
            Assert.Equal(0, exit);
            Assert.Contains("All existing recordings have been linked to tenant school", output, StringComparison.Ordinal);
            var listed = (await lms.CallAsync("getRecordings")).Element("recordings")!.Elements("recording").ToList();
            Assert.Equal(2, listed.Count);
            Assert.All(listed, r => Assert.Equal(tenant.Id, r.Element("metadata")!.Element("tenant-id")!.Value));
            Assert.All(listed, r => Assert.Equal("school", r.Element("metadata")!.Element("tenant-name")!.Value));
            Assert.Empty((await pool.Client.CallAsync("getRecordings")).Element("recordings")?.Elements("recording") ?? []);

            (exit, _, err) = await Run(pool, "recordings", "assign-tenant", "nobody");
            Assert.Equal(1, exit);
            Assert.Contains("Couldn't find tenant nobody", err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(volume, recursive: true);
        }
    }
}
