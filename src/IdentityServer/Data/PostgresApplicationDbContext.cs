using Microsoft.EntityFrameworkCore;

namespace IdentityServer.Data;

/// <summary>
/// The same model as <see cref="ApplicationDbContext"/> on PostgreSQL. Its own type only so that
/// EF Core keeps its migrations (Data/Migrations/Postgres) apart from the SQLite ones; it is
/// registered as the <see cref="ApplicationDbContext"/> service, so nothing else sees it.
/// </summary>
public sealed class PostgresApplicationDbContext(DbContextOptions<PostgresApplicationDbContext> options)
    : ApplicationDbContext(options);
