using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace IdentityServer.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add ... --context PostgresApplicationDbContext</c> build the model
/// without a server: adding a migration never connects, so the connection string is a placeholder.
/// </summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresApplicationDbContext>
{
    public PostgresApplicationDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresApplicationDbContext>()
            .UseNpgsql("Host=localhost;Database=idp")
            .UseOpenIddict()
            .UseApplicationServiceProvider(DesignTimeServices.IdentityStores)
            .Options);
}
