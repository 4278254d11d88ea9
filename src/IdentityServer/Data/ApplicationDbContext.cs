using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace IdentityServer.Data;

/// <summary>One database for accounts (ASP.NET Core Identity) and protocol state (OpenIddict entities).</summary>
public sealed class ApplicationDbContext(DbContextOptions<ApplicationDbContext> options)
    : IdentityDbContext<ApplicationUser>(options)
{
    private SqliteWriteGate? gate;
    private bool gateResolved;

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        // Inside an explicit transaction SQLite's write lock is already held (Microsoft.Data.Sqlite
        // begins IMMEDIATE); waiting for the gate there could stall the writer that holds it.
        if (WriteGate is not { } writeGate || Database.CurrentTransaction is not null)
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }
        using (await writeGate.EnterAsync(cancellationToken))
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        if (WriteGate is not { } writeGate || Database.CurrentTransaction is not null)
        {
            return base.SaveChanges(acceptAllChangesOnSuccess);
        }
        using (writeGate.Enter())
        {
            return base.SaveChanges(acceptAllChangesOnSuccess);
        }
    }

    /// <summary>The SQLite write gate registered with this context's options, if any.</summary>
    private SqliteWriteGate? WriteGate
    {
        get
        {
            if (!gateResolved)
            {
                gate = this.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<SqliteWriteGate>().FirstOrDefault();
                gateResolved = true;
            }
            return gate;
        }
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();
    }
}
