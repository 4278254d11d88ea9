using IdentityServer.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// One commit per token response. While OpenIddict issues the tokens of one token-endpoint response
/// (access, refresh and ID token, and its second redemption update of the refresh token presented),
/// each would otherwise be its own commit: on SQLite that is one turn of the single writer and one fsync
/// each, and a refresh made five. Here the rows are kept in the request's unit of work and written in
/// one transaction just before the response is built, so the client is answered only once every row
/// is durable, exactly as before; if the write fails, the client gets an error and no token.
/// The writes that decide between concurrent uses stay commits of their own, before any token is
/// issued: a refresh token's redemption (see <see cref="TokenEndpoint"/>) and a code's (see
/// <see cref="TokenStore"/>).
/// Measured (64 connections, 2 vCPU, SQLite): refresh 1.25–1.26 times the rate without the batch.
/// A client_credentials response has one row, so nothing to batch: it is written at once, which
/// measured 1.09–1.17 times the batched rate (docs/performance.md, "Write path: each mechanism measured").
/// </summary>
internal sealed class TokenWriteBatch
{
    /// <summary>Whether token rows wait for <see cref="FlushAsync"/> instead of being written at once.</summary>
    public bool Deferring { get; private set; }

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseScopedHandler<Begin>()
            .SetOrder(HandlerOrder.BeginTokenWriteBatch)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseScopedHandler<Flush>()
            // After every token is generated (and the device-code entry updated), before the response.
            .SetOrder(OpenIddictServerHandlers.AttachSignInParameters.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>()
            .UseScopedHandler<DiscardOnError>()
            // Before any error handler that saves (reuse detection, audit), so that it cannot write them.
            .SetOrder(HandlerOrder.DiscardUnwrittenTokens)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    /// <summary>Writes the deferred rows in one transaction; false when a row changed meanwhile.</summary>
    private async Task<bool> FlushAsync(ApplicationDbContext database, CancellationToken cancellationToken)
    {
        Deferring = false;
        try
        {
            await database.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            // The code or refresh token being redeemed was changed by another request (revoked, or
            // redeemed) after this one read it: nothing was written.
            Discard(database);
            return false;
        }
        catch
        {
            Discard(database);
            throw;
        }
    }

    /// <summary>Forgets rows that were never written, so that no later write of the request picks them up.</summary>
    private void Discard(ApplicationDbContext database)
    {
        Deferring = false;
        foreach (var entry in database.ChangeTracker.Entries<OpenIddictEntityFrameworkCoreToken>().ToList())
        {
            if (entry.State == EntityState.Added)
            {
                entry.State = EntityState.Detached;
            }
            else if (entry.State == EntityState.Modified)
            {
                entry.Reload();
            }
        }
    }

    private sealed class Begin(TokenWriteBatch batch) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            batch.Deferring = context.EndpointType == OpenIddictServerEndpointType.Token && context.Request?.GrantType != GrantTypes.ClientCredentials;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Flush(TokenWriteBatch batch, ApplicationDbContext database) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (batch.Deferring && !await batch.FlushAsync(database, context.CancellationToken))
            {
                context.Reject(
                    error: Errors.InvalidGrant,
                    description: "The specified token is no longer valid.");
            }
        }
    }

    private sealed class DiscardOnError(TokenWriteBatch batch, ApplicationDbContext database) : IOpenIddictServerHandler<ProcessErrorContext>
    {
        public ValueTask HandleAsync(ProcessErrorContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (batch.Deferring)
            {
                batch.Discard(database);
            }
            return ValueTask.CompletedTask;
        }
    }
}
