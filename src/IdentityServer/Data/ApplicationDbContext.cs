using IdentityServer.Audit;
using IdentityServer.BackchannelLogout;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace IdentityServer.Data;

/// <summary>
/// One database for accounts (ASP.NET Core Identity), protocol state (OpenIddict entities) and, on
/// PostgreSQL, the data protection key ring. SQLite uses this type; PostgreSQL the derived
/// <see cref="PostgresApplicationDbContext"/>, which only keeps its migrations apart.
/// </summary>
public class ApplicationDbContext : IdentityDbContext<ApplicationUser>, IDataProtectionKeyContext
{
    public ApplicationDbContext(DbContextOptions<ApplicationDbContext> options)
        : base(options)
    {
    }

    protected ApplicationDbContext(DbContextOptions options)
        : base(options)
    {
    }

    /// <summary>ASP.NET Core data protection keys; written only when the provider is Postgres (SQLite keeps its key folder).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<UserSession> Sessions => Set<UserSession>();

    public DbSet<SessionClient> SessionClients => Set<SessionClient>();

    public DbSet<SessionAuthorization> SessionAuthorizations => Set<SessionAuthorization>();

    public DbSet<SecurityEvent> SecurityEvents => Set<SecurityEvent>();

    public DbSet<BackchannelLogoutDelivery> BackchannelLogoutDeliveries => Set<BackchannelLogoutDelivery>();

    public DbSet<Keys.SigningKey> SigningKeys => Set<Keys.SigningKey>();

    /// <summary>Runs several writes (bulk updates and SaveChanges) as one transaction, or inside the current one.</summary>
    public async Task<T> WriteInTransactionAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Database.CurrentTransaction is not null)
        {
            return await work(cancellationToken);
        }
        await using var transaction = await Database.BeginTransactionAsync(cancellationToken);
        var result = await work(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();

        // Only conditional updates (ExecuteUpdate) write it: an account saved through Identity
        // with an older value loaded must not move it back, which would let a used code work again.
        builder.Entity<ApplicationUser>().Property(u => u.AuthenticatorTimeStep).Metadata.SetAfterSaveBehavior(PropertySaveBehavior.Ignore);

        // Identity checks that an address is unused before it saves one (RequireUniqueEmail), but two
        // saves at the same moment (two registrations, a registration and an admin) both pass the
        // check; an address on two accounts then breaks every look-up by address. The database
        // decides. Accounts without an address (NULL) may be many.
        builder.Entity<ApplicationUser>().HasIndex(u => u.NormalizedEmail).HasDatabaseName("EmailIndex").IsUnique();

        builder.Entity<UserSession>(session =>
        {
            session.ToTable("Sessions");
            session.Property(s => s.Id).HasMaxLength(64);
            session.Property(s => s.UserId).HasMaxLength(450);
            session.Property(s => s.UserName).HasMaxLength(256);
            session.Property(s => s.IpAddress).HasMaxLength(64);
            session.Property(s => s.UserAgent).HasMaxLength(512);
            session.Property(s => s.DeviceName).HasMaxLength(128);
            session.Property(s => s.AuthenticationMethods).HasMaxLength(128);
            session.Property(s => s.Issuer).HasMaxLength(512);
            session.Property(s => s.EndReason).HasMaxLength(64);
            session.Property(s => s.EndedBy).HasMaxLength(450);
            // A user's active sessions; sessions to expire or prune.
            session.HasIndex(s => new { s.UserId, s.EndedAt });
            session.HasIndex(s => new { s.EndedAt, s.ExpiresAt });
            session.HasMany(s => s.Clients).WithOne().HasForeignKey(c => c.SessionId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SessionClient>(client =>
        {
            client.ToTable("SessionClients");
            client.HasKey(c => new { c.SessionId, c.ClientId });
            client.Property(c => c.ClientId).HasMaxLength(100);
        });

        builder.Entity<SessionAuthorization>(link =>
        {
            link.ToTable("SessionAuthorizations");
            link.HasKey(l => new { l.SessionId, l.AuthorizationId });
            link.HasIndex(l => l.AuthorizationId);
            link.HasOne<UserSession>().WithMany().HasForeignKey(l => l.SessionId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SecurityEvent>(entry =>
        {
            entry.ToTable("SecurityEvents");
            entry.Property(e => e.Type).HasMaxLength(64);
            entry.Property(e => e.UserId).HasMaxLength(450);
            entry.Property(e => e.UserName).HasMaxLength(256);
            entry.Property(e => e.SessionId).HasMaxLength(64);
            entry.Property(e => e.ClientId).HasMaxLength(100);
            entry.Property(e => e.IpAddress).HasMaxLength(64);
            entry.Property(e => e.UserAgent).HasMaxLength(512);
            entry.Property(e => e.Actor).HasMaxLength(450);
            entry.Property(e => e.Detail).HasMaxLength(256);
            entry.HasIndex(e => e.Timestamp);
            entry.HasIndex(e => new { e.UserId, e.Timestamp });
            entry.HasIndex(e => new { e.Type, e.Timestamp });
        });

        builder.Entity<BackchannelLogoutDelivery>(delivery =>
        {
            delivery.ToTable("BackchannelLogoutDeliveries");
            delivery.Property(d => d.SessionId).HasMaxLength(64);
            delivery.Property(d => d.ClientId).HasMaxLength(100);
            delivery.Property(d => d.Uri).HasMaxLength(2048);
            delivery.Property(d => d.Subject).HasMaxLength(450);
            delivery.Property(d => d.Issuer).HasMaxLength(512);
            delivery.Property(d => d.Status).HasMaxLength(16);
            delivery.Property(d => d.LastError).HasMaxLength(256);
            delivery.HasIndex(d => new { d.Status, d.NextAttemptAt });
            delivery.HasIndex(d => d.SessionId);
        });

        builder.Entity<Keys.SigningKey>(key =>
        {
            key.ToTable("SigningKeys");
            key.HasKey(k => k.Id);
            key.Property(k => k.Id).HasMaxLength(64);
            key.Property(k => k.Algorithm).HasMaxLength(16);
        });

        // SQLite cannot order or compare DateTimeOffset values: store them as UTC ticks.
        if (Database.IsSqlite())
        {
            Type[] ours = [typeof(UserSession), typeof(SessionClient), typeof(SecurityEvent), typeof(BackchannelLogoutDelivery), typeof(Keys.SigningKey)];
            foreach (var property in ours.SelectMany(type => builder.Entity(type).Metadata.GetProperties())
                .Where(static p => p.ClrType == typeof(DateTimeOffset) || p.ClrType == typeof(DateTimeOffset?)))
            {
                property.SetValueConverter(new DateTimeOffsetToBinaryConverter());
            }
        }
    }
}
