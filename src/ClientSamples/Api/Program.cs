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

// The downstream API this one calls on its callers' behalf (token exchange), when configured.
builder.Services.AddOptions<DownstreamSettings>().Bind(builder.Configuration.GetSection(DownstreamSettings.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddHttpClient<DownstreamCaller>();
builder.Services.AddSingleton<ClientSamples.Shared.DPoPKey>();
var downstream = builder.Configuration.GetSection(DownstreamSettings.Section).Get<DownstreamSettings>();
builder.Services.AddAuthorizationBuilder()
    .AddPolicy("samples-api", policy => policy
        .AddAuthenticationSchemes(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme)
        .RequireAuthenticatedUser()
        .RequireAssertion(context => context.User.HasScope(settings.RequiredScope)));

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

var api = app.MapGroup("/api").RequireAuthorization("samples-api");
api.MapGet("/hello", (ClaimsPrincipal user) => new HelloResponse(
    Subject: user.GetClaim(OpenIddictConstants.Claims.Subject),
    ClientId: user.GetClaim(OpenIddictConstants.Claims.ClientId),
    Scopes: [.. user.GetScopes()],
    ValidatedBy: settings.Mode.ToString(),
    // The token's cnf, present when it is DPoP-bound (and then checked against the call's proof).
    BoundTo: user.GetClaim("cnf") is { } cnf ? System.Text.Json.Nodes.JsonNode.Parse(cnf)?["jkt"]?.GetValue<string>() : null,
    // Who acts for the subject, in a token made by token exchange (RFC 8693 act).
    Actor: user.GetClaim("act") is { } act ? System.Text.Json.Nodes.JsonNode.Parse(act)?["sub"]?.GetValue<string>() : null));
if (downstream?.BaseAddress is not null)
{
    // The downstream API's answer to this API, calling for the caller with an exchanged token.
    api.MapGet("/hello/downstream", async (HttpRequest request, DownstreamCaller caller, CancellationToken cancellationToken) =>
    {
        var (status, body) = await caller.CallAsync(DownstreamCaller.CallerToken(request)!, cancellationToken);
        return Results.Content(body, "application/json", statusCode: status);
    });
}

await app.RunAsync();
