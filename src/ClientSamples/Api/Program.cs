using System.Security.Claims;
using ClientSamples.Api;
using ClientSamples.Api.Validation;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

var settings = builder.AddValidationSettings();

builder.Services.AddOpenIddict()
    .AddValidation(options =>
    {
        // Tokens are accepted from this issuer only; its discovery document gives the JWKS and the
        // introspection endpoint.
        options.SetIssuer(settings.Issuer);
        // An access token must be meant for this API (its "aud"), not just be signed by the issuer.
        options.AddAudiences(settings.Audience);

        if (settings.Mode == ValidationMode.Introspection)
        {
            // Ask the identity provider about every token: a revoked token or an ended session is
            // refused at once, at the price of one round trip (unless the cache below is on).
            options.UseIntrospection()
                .SetClientId(settings.ClientId!)
                .SetClientSecret(settings.ClientSecret!);
            options.AddIntrospectionCache(settings.IntrospectionCacheDuration);
        }

        // DPoP-bound tokens need the key's proof with every call (RFC 9449 7); Bearer tokens work as before.
        options.AddDPoP();

        options.UseSystemNetHttp();
        options.UseAspNetCore();
    });

builder.Services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
builder.Services.AddAuthorizationBuilder()
    .AddPolicy("samples-api", policy => policy
        .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
        .RequireAuthenticatedUser()
        .RequireAssertion(context => context.User.HasScope(settings.RequiredScope)));

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapGroup("/api").RequireAuthorization("samples-api")
    .MapGet("/hello", (ClaimsPrincipal user) => new HelloResponse(
        Subject: user.GetClaim(OpenIddictConstants.Claims.Subject),
        ClientId: user.GetClaim(OpenIddictConstants.Claims.ClientId),
        Scopes: [.. user.GetScopes()],
        ValidatedBy: settings.Mode.ToString(),
        // The token's cnf, present when it is DPoP-bound (and then checked against the call's proof).
        BoundTo: user.GetClaim("cnf") is { } cnf ? System.Text.Json.Nodes.JsonNode.Parse(cnf)?["jkt"]?.GetValue<string>() : null));

await app.RunAsync();
