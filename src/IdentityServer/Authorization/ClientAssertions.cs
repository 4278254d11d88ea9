using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Client assertions (<c>private_key_jwt</c>, RFC 7523 2.2, OpenID Connect Core 9), checked by OpenIddict
/// against the client's registered keys, with two additions:
/// <list type="bullet">
/// <item>An assertion OpenIddict refuses is <c>invalid_client</c> (RFC 6749 5.2) whatever the cause;
/// OpenIddict answers an assertion for another audience with <c>invalid_token</c>.</item>
/// <item>An assertion is used once (OpenID Connect Core 9: "these tokens MUST only be used once"): its
/// <c>jti</c> is required and remembered until the assertion expires, as a row of the token table whose
/// unique reference id is a hash of the client id and the <c>jti</c>. Two requests with one assertion,
/// on one node or two, cannot both insert it: the second is refused. The row stays valid until the
/// assertion could no longer be accepted (its expiry plus OpenIddict's clock skew) and is pruned with the
/// other expired tokens; an assertion must expire within <see cref="MaxLifetime"/> (an hour), which
/// bounds the rows kept. Each assertion costs one insert.</item>
/// </list>
/// </summary>
internal static partial class ClientAssertions
{
    /// <summary>The token type of a remembered assertion (never issued, never accepted as a token).</summary>
    public const string UsedAssertionType = "used_client_assertion";

    /// <summary>The clock skew OpenIddict allows when it checks an assertion's expiry.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>A unique index refused the row (SQLite's constraint error, PostgreSQL's 23505); any other failure is not a replay.</summary>
    private static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19,
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>How far ahead an assertion's expiry may be.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    /// <summary>OpenIddict's assertion check, which <see cref="CheckDescriptor"/> wraps.</summary>
    public static OpenIddictServerHandlerDescriptor Replaced => OpenIddictServerHandlers.ValidateClientAssertion.Descriptor;

    public static OpenIddictServerHandlerDescriptor CheckDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionValidated>()
            .UseScopedHandler<CheckAssertion>()
            .SetOrder(Replaced.Order)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static OpenIddictServerHandlerDescriptor OnceDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionPrincipal>()
            .UseScopedHandler<UseOnce>()
            // Once OpenIddict has checked the assertion (signature, issuer, audience, expiry) and the client:
            // only a genuine assertion of this client is remembered (after DisabledClients).
            .SetOrder(OpenIddictServerHandlers.ValidateClientSecret.Descriptor.Order + 2)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors => [CheckDescriptor, OnceDescriptor];

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "Client assertion of {ClientId} refused: used already.")]
    private static partial void LogReplay(ILogger logger, string? clientId);

    internal sealed class CheckAssertion(IOpenIddictServerDispatcher dispatcher) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        private readonly OpenIddictServerHandlers.ValidateClientAssertion inner = new(dispatcher);

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (string.IsNullOrEmpty(context.ClientAssertion))
            {
                return;
            }
            await inner.HandleAsync(context);
            if (context.IsRejected && context.Error == Errors.InvalidToken)
            {
                context.Reject(Errors.InvalidClient, context.ErrorDescription, context.ErrorUri);
            }
        }
    }

    internal sealed class UseOnce(IOpenIddictTokenManager tokens, ApplicationDbContext database, TimeProvider clock, ILogger<UseOnce> logger)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            var principal = context.ClientAssertionPrincipal!;
            if (principal.GetClaim(Claims.JwtId) is not { Length: > 0 and <= 256 } jti || principal.GetExpirationDate() is not { } expires)
            {
                context.Reject(Errors.InvalidClient, "The client assertion must have a 'jti' (of at most 256 characters) and an 'exp' claim.");
                return;
            }
            // Remembered rows are pruned after Pruning:MinimumAge (days): an assertion must not outlive that.
            if (expires > clock.GetUtcNow() + MaxLifetime)
            {
                context.Reject(Errors.InvalidClient, "The client assertion must expire within an hour.");
                return;
            }
            // The client id's length first: no other client id and jti make the same text.
            var reference = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes($"{context.ClientId!.Length}:{context.ClientId}:{jti}")));
            if (await tokens.FindByReferenceIdAsync(reference, context.CancellationToken) is not null || !await RememberAsync(context, reference, expires))
            {
                LogReplay(logger, context.ClientId);
                context.Reject(Errors.InvalidClient, "The client assertion has been used already.");
            }
        }

        private async Task<bool> RememberAsync(ProcessAuthenticationContext context, string reference, DateTimeOffset expires)
        {
            try
            {
                await tokens.CreateAsync(new OpenIddictTokenDescriptor
                {
                    ReferenceId = reference,
                    Type = UsedAssertionType,
                    // Valid until the assertion could no longer be accepted (OpenIddict allows 5 minutes of
                    // clock skew): pruning removes a valid row only once it has expired, whatever Pruning:MinimumAge says.
                    Status = Statuses.Valid,
                    CreationDate = clock.GetUtcNow(),
                    ExpirationDate = expires + ClockSkew,
                }, context.CancellationToken);
                return true;
            }
            catch (OpenIddictExceptions.ValidationException)
            {
                // The manager found the reference just before inserting: another request remembered it first.
                return false;
            }
            catch (DbUpdateException exception) when (IsUniqueViolation(exception))
            {
                // Another request inserted it first. The row that failed must not be written with this request's next save.
                foreach (var entry in database.ChangeTracker.Entries<OpenIddictEntityFrameworkCoreToken>().Where(static e => e.State == EntityState.Added).ToList())
                {
                    entry.State = EntityState.Detached;
                }
                return false;
            }
        }
    }
}
