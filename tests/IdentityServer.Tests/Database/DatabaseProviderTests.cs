using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace IdentityServer.Tests.Database;

public sealed class DatabaseProviderTests
{
    [Theory]
    [InlineData(null, "Sqlite")]
    [InlineData("", "Sqlite")]
    [InlineData("Sqlite", "Sqlite")]
    [InlineData("postgres", "Postgres")]
    [InlineData("Postgres", "Postgres")]
    public void Provider_KnownOrMissing_IsChosen(string? value, string expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Database:Provider"] = value })
            .Build();
        Assert.Equal(expected, DatabaseSetup.ReadProvider(configuration).ToString());
    }

    [Theory]
    [InlineData("Oracle")]
    [InlineData("1")]
    public void Provider_Unknown_StopsStartupWithClearMessage(string value)
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["Database:Provider"] = value;
        var error = StartupError(Record.Exception(() => factory.Server));
        Assert.Equal($"Database:Provider '{value}' is not supported. Use 'Sqlite' (the default) or 'Postgres'.", error.Message);
    }

    [Fact]
    public void Provider_PostgresWithoutConnectionString_StopsStartupWithClearMessage()
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["Database:Provider"] = "Postgres";
        factory.Settings["ConnectionStrings:Default"] = "";
        var error = StartupError(Record.Exception(() => factory.Server));
        Assert.StartsWith("Database:Provider is 'Postgres' but ConnectionStrings:Default is empty.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Startup_DatabaseMissing_SqliteCreatesItPostgresStopsWithMessageNamingItButNoPassword()
    {
        using var factory = new IdentityServerFactory();
        if (IdentityServerFactory.Provider != TestDatabaseProvider.Postgres)
        {
            // SQLite has nothing to create beforehand: the server creates the file.
            Assert.False(File.Exists(factory.DatabasePath));
            _ = factory.Server;
            Assert.True(File.Exists(factory.DatabasePath));
            return;
        }
        var missing = new Npgsql.NpgsqlConnectionStringBuilder(factory.ConnectionString)
        {
            Database = "idp_missing_" + Guid.NewGuid().ToString("N"),
            Password = "not-to-be-shown",
        };
        factory.Settings["ConnectionStrings:Default"] = missing.ConnectionString;
        var error = StartupError(Record.Exception(() => factory.Server), "PostgreSQL has no database");
        Assert.Contains($"'{missing.Database}' on {missing.Host}:{missing.Port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("CREATE DATABASE", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-to-be-shown", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The start-up message, wherever the host wrapped it.</summary>
    private static InvalidOperationException StartupError(Exception? error, string start = "Database:Provider")
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is InvalidOperationException found && found.Message.StartsWith(start, StringComparison.Ordinal))
            {
                return found;
            }
        }
        throw new Xunit.Sdk.XunitException($"Expected a start-up error starting '{start}', got: {error}");
    }
}
