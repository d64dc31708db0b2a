using Npgsql;
using Scalelite.Core.FromScalelite;
using Scalelite.Tests.Infrastructure;
using StackExchange.Redis;

namespace Scalelite.Tests.Core.FromScalelite;

/// <summary>Scalelite's data can only be read: PostgreSQL and the Redis connection refuse writes themselves.</summary>
public sealed class ScaleliteSourceTests(InfrastructureFixture infrastructure) : IClassFixture<InfrastructureFixture>
{
    [Fact]
    public async Task ReadOnlyConnectionString_Write_IsRefusedByPostgreSql()
    {
        var database = await infrastructure.CreateDatabaseAsync("readonly_source");
        await using (var setup = new NpgsqlConnection(database))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE recordings (id bigserial PRIMARY KEY, record_id varchar)", setup);
            await create.ExecuteNonQueryAsync();
        }

        await using var connection = new NpgsqlConnection(ScaleliteSource.ReadOnlyConnectionString(database));
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO recordings (record_id) VALUES ('x')", connection);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
    }

    [Theory]
    [InlineData("SET")]
    [InlineData("HSET")]
    [InlineData("DEL")]
    [InlineData("EVAL")]
    public async Task ReadOnlyRedisOptions_Write_IsRefusedBeforeItIsSent(string command)
    {
        var url = $"{infrastructure.RedisConnectionString},defaultDatabase={infrastructure.NextRedisDatabase()}";
        await using var redis = await ConnectionMultiplexer.ConnectAsync(ScaleliteSource.ReadOnlyRedisOptions(url));
        var db = redis.GetDatabase();
        Func<Task> write = () => command switch
        {
            "SET" => db.StringSetAsync("scalelite:servers", "x"),
            "HSET" => db.HashSetAsync("scalelite:server:1", "url", "x"),
            "DEL" => db.KeyDeleteAsync("scalelite:servers"),
            _ => db.ScriptEvaluateAsync("return redis.call('SET', 'scalelite:x', '1')"),
        };
        await Assert.ThrowsAsync<RedisCommandException>(write);
        Assert.Equal(0L, (long)await db.ExecuteAsync("DBSIZE"));
    }
}
