using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using OpenIddict.Client;
using OpenIddict.Client.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using Tokens = OpenIddict.Client.AspNetCore.OpenIddictClientAspNetCoreConstants.Tokens;

namespace ClientSamples.WebApp.Authentication;

internal static class AuthenticationSetup
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;

    public static void AddSignIn(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(CookieScheme)
            .AddCookie(options =>
            {
                options.LoginPath = "/login";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
                options.SlidingExpiration = true;
                // Every request checks that the identity provider has not ended the session and refreshes the
                // access token when it is about to expire.
                options.Events.OnValidatePrincipal = context =>
                    context.HttpContext.RequestServices.GetRequiredService<SessionCookieValidator>().ValidateAsync(context);
            });

        // Cookies do not care about ports: two instances on localhost:5002 and :5003 would overwrite each
        // other's cookie under one name, so each app's cookie is named after its client id.
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieScheme)
            .Configure<IOptions<WebAppSettings>>((options, settings) => options.Cookie.Name = $".samples.{settings.Value.ClientId}");

        builder.Services.AddOpenIddict()
            .AddClient(options =>
            {
                options.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow();

                // The client signs and encrypts its own state tokens (the "state" parameter). Ephemeral keys
                // suit a sample: a restart only breaks the sign-ins in flight. A real deployment with several
                // instances configures shared certificates instead.
                options.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
                // No database here: tokens live in the authentication cookie. Without token storage a state
                // token is not marked as redeemed, so its single use rests on its short lifetime.
                options.DisableTokenStorage();

                options.UseAspNetCore()
                    .EnableRedirectionEndpointPassthrough()
                    .EnablePostLogoutRedirectionEndpointPassthrough()
                    // Plain HTTP on loopback for the samples; remove this line behind HTTPS.
                    .DisableTransportSecurityRequirement();

                options.UseSystemNetHttp().SetProductInformation(typeof(AuthenticationSetup).Assembly);
            });

        builder.Services.AddOptions<OpenIddictClientOptions>()
            .Configure<IOptions<WebAppSettings>>((options, settings) =>
            {
                var registration = new OpenIddictClientRegistration
                {
                    Issuer = settings.Value.Issuer,
                    ClientId = settings.Value.ClientId,
                    ClientSecret = settings.Value.ClientSecret,
                    // Relative: resolved against the address of the instance that handles the request.
                    RedirectUri = new Uri("callback/login", UriKind.Relative),
                    PostLogoutRedirectUri = new Uri("callback/logout", UriKind.Relative),
                };
                registration.Scopes.UnionWith(settings.Value.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                options.Registrations.Add(registration);
            });

        builder.Services.AddAuthorization();
        builder.Services.AddAntiforgery();
        builder.Services.AddOptions<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>()
            .Configure<IOptions<WebAppSettings>>((options, settings) => options.Cookie.Name = $".samples.{settings.Value.ClientId}.af");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TokenRefresher>();
        builder.Services.AddSingleton<SessionCookieValidator>();
    }

    public static void MapSignInEndpoints(this WebApplication app)
    {
        app.MapGet("/login", (string? returnUrl) => Results.Challenge(
            new AuthenticationProperties { RedirectUri = IsLocal(returnUrl) ? returnUrl : "/" },
            [OpenIddictClientAspNetCoreDefaults.AuthenticationScheme]));

        // The identity provider sends the browser back here with the code; OpenIddict checks state, issuer,
        // PKCE and the ID token (signature, audience, nonce) and redeems the code before this runs.
        app.MapMethods("/callback/login", [HttpMethods.Get, HttpMethods.Post], async (HttpContext context) =>
        {
            var result = await context.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
            if (result.Principal is not { Identity.IsAuthenticated: true } remote)
            {
                return Results.Redirect("/?error=sign-in-failed");
            }

            // Only what the pages need; "sid" ties the cookie to the identity provider's session so that a
            // back-channel logout can end it.
            var identity = new ClaimsIdentity(CookieScheme, Claims.Name, Claims.Role);
            identity.AddClaim(new Claim(Claims.Subject, FindClaim(remote, Claims.Subject, ClaimTypes.NameIdentifier) ?? ""));
            identity.AddClaim(new Claim(Claims.Name, FindClaim(remote, Claims.Name, ClaimTypes.Name) ?? ""));
            if (FindClaim(remote, "sid") is { } sid)
            {
                identity.AddClaim(new Claim("sid", sid));
            }

            var properties = new AuthenticationProperties { RedirectUri = result.Properties?.RedirectUri ?? "/" };
            properties.StoreTokens(result.Properties!.GetTokens().Where(token => token.Name is
                Tokens.BackchannelAccessToken or Tokens.BackchannelAccessTokenExpirationDate or
                Tokens.BackchannelIdentityToken or Tokens.RefreshToken));
            return Results.SignIn(new ClaimsPrincipal(identity), properties, CookieScheme);
        });

        // RP-initiated logout: the local cookie goes first, then the browser is sent to the identity provider
        // with id_token_hint (which session, which app) and comes back to /callback/logout.
        app.MapPost("/logout", async (HttpContext context, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery) =>
        {
            await antiforgery.ValidateRequestAsync(context);
            var result = await context.AuthenticateAsync(CookieScheme);
            await context.SignOutAsync(CookieScheme);
            if (result.Properties?.GetTokenValue(Tokens.BackchannelIdentityToken) is not { } idToken)
            {
                return Results.Redirect("/");
            }
            var properties = new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictClientAspNetCoreConstants.Properties.IdentityTokenHint] = idToken,
            })
            { RedirectUri = "/" };
            return Results.SignOut(properties, [OpenIddictClientAspNetCoreDefaults.AuthenticationScheme]);
        });

        app.MapMethods("/callback/logout", [HttpMethods.Get, HttpMethods.Post], async (HttpContext context) =>
        {
            // Validates the state that OpenIddict attached to the end-session request.
            var result = await context.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
            return Results.Redirect(IsLocal(result.Properties?.RedirectUri) ? result.Properties!.RedirectUri! : "/");
        });
    }

    private static string? FindClaim(ClaimsPrincipal principal, params string[] types) =>
        types.Select(type => principal.FindFirst(type)?.Value).FirstOrDefault(value => !string.IsNullOrEmpty(value));

    // Only paths on this app: an open redirect would let a link send users anywhere after sign-in.
    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}
