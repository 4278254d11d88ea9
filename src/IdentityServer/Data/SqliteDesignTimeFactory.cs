using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace IdentityServer.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add ... --context ApplicationDbContext</c> build the SQLite model
/// (without it the tools would take the PostgreSQL factory for the base type too).
/// </summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<ApplicationDbContext>
{
    public ApplicationDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ApplicationDbContext>()
            .UseSqlite(DatabaseSetup.DefaultConnectionString)
            .UseOpenIddict()
            .UseApplicationServiceProvider(DesignTimeServices.IdentityStores)
            .Options);
}
