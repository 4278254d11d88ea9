using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Data;

internal static class DatabaseSetup
{
    public const string DefaultConnectionString = "Data Source=App_Data/idp.db";

    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        var connectionString = ResolveConnectionString(
            builder.Configuration.GetConnectionString("Default") ?? DefaultConnectionString,
            builder.Environment.ContentRootPath);

        builder.Services.AddSingleton<SqliteWriteGate>();
        builder.Services.AddDbContextPool<ApplicationDbContext>((services, options) =>
        {
            options.UseSqlite(connectionString);
            options.UseOpenIddict();
            options.AddInterceptors(services.GetRequiredService<SqliteWriteGate>());
        });
        return builder;
    }

    /// <summary>
    /// Applies pending migrations before the server accepts requests. The SQLite file and its
    /// folder are created on first run; new SQLite databases are switched to WAL so readers never
    /// wait for the single writer.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<ApplicationDbContext>();
        await context.Database.MigrateAsync();
        await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    }

    /// <summary>Makes a relative SQLite file path relative to the content root and creates its folder.</summary>
    internal static string ResolveConnectionString(string connectionString, string contentRoot)
    {
        var csb = new SqliteConnectionStringBuilder(connectionString);
        if (!string.IsNullOrEmpty(csb.DataSource)
            && csb.DataSource != ":memory:"
            && csb.Mode != SqliteOpenMode.Memory)
        {
            var path = Path.IsPathRooted(csb.DataSource)
                ? csb.DataSource
                : Path.GetFullPath(Path.Combine(contentRoot, csb.DataSource));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            csb.DataSource = path;
        }
        return csb.ToString();
    }
}
