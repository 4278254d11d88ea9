using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// A client's own access- and refresh-token lifetimes (the seed's <c>AccessTokenLifetime</c>,
/// <c>RefreshTokenLifetime</c>, stored as OpenIddict's application settings), applied at every sign-in
/// (every grant) before OpenIddict builds the tokens: the shortest of the client's value, the lifetime
/// already set for the session (the token endpoint never lets a token outlive its session) and the
/// server's setting. Never longer than the server's: signing keys stay published for the server's
/// lifetimes, and pruning keeps redeemed refresh tokens for the server's refresh lifetime.
/// </summary>
internal sealed class ClientTokenLifetimes(IOpenIddictApplicationManager applications, IOptions<TokenOptions> tokens)
    : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseScopedHandler<ClientTokenLifetimes>()
            // Before OpenIddict prepares the token principals from the sign-in principal.
            .SetOrder(OpenIddictServerHandlers.PrepareAccessTokenPrincipal.Descriptor.Order - 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ProcessSignInContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Principal is not { } principal || string.IsNullOrEmpty(context.ClientId)
            || await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application)
        {
            return;
        }
        var settings = await applications.GetSettingsAsync(application, context.CancellationToken);
        if (Read(settings, Settings.TokenLifetimes.AccessToken) is { } access)
        {
            principal.SetAccessTokenLifetime(Shortest(access, principal.GetAccessTokenLifetime(), tokens.Value.AccessTokenLifetime));
        }
        if (Read(settings, Settings.TokenLifetimes.RefreshToken) is { } refresh)
        {
            principal.SetRefreshTokenLifetime(Shortest(refresh, principal.GetRefreshTokenLifetime(), tokens.Value.RefreshTokenLifetime));
        }
    }

    /// <summary>A client's stored lifetime setting (<c>[d.]hh:mm:ss</c>, as the seed and the admin API write it), if it has one.</summary>
    internal static TimeSpan? Read(IReadOnlyDictionary<string, string> settings, string name) =>
        settings.TryGetValue(name, out var value) && TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var lifetime)
            ? lifetime
            : null;

    private static TimeSpan Shortest(TimeSpan client, TimeSpan? session, TimeSpan server)
    {
        var shortest = client < server ? client : server;
        return session is { } cap && cap < shortest ? cap : shortest;
    }
}
