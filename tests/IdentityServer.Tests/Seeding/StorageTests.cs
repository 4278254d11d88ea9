using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Seeding;

public sealed class StorageTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task Database_FirstStart_CreatesSqliteFileInWalModeWithAllMigrationsApplied()
    {
        _ = factory.Server;
        Assert.True(File.Exists(factory.DatabasePath));
        var (mode, pending) = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            var connection = context.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            var journal = (string?)await command.ExecuteScalarAsync();
            return (journal, (await context.Database.GetPendingMigrationsAsync()).Count());
        });
        Assert.Equal("wal", mode);
        Assert.Equal(0, pending);
    }
}
