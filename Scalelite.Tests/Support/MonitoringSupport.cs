using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using Scalelite.Core.Persistence;

namespace Scalelite.Tests.Support;

/// <summary>PostgreSQL contexts for a test's own database, without a host.</summary>
internal static class TestDatabases
{
    public static IDbContextFactory<ScaleliteDbContext> Factory(string connectionString) =>
        new PooledDbContextFactory<ScaleliteDbContext>(new DbContextOptionsBuilder<ScaleliteDbContext>().UseNpgsql(connectionString).Options);

    public static ScaleliteDbContext Context(string connectionString) => Factory(connectionString).CreateDbContext();
}

/// <summary>Options a test sets and changes as it goes.</summary>
internal sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue { get; set; } = value;

    public T Get(string? name) => CurrentValue;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
