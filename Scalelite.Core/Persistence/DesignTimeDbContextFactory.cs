using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Scalelite.Core.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<ScaleliteDbContext>
{
    public ScaleliteDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ScaleliteDbContext>().UseNpgsql("Host=localhost;Database=scalelite").Options);
}
