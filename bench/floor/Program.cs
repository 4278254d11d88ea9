// Throughput floor of stock OpenIddict (see README.md): a token server made of OpenIddict and nothing
// of the product's own (accounts, sessions, rate limits, audit, pruning, forwarded and security
// headers...). run.sh starts it in one of three modes (see FloorMode) and measures it.
//
// The same in every mode, so that the modes differ only in what they are about:
// - RSA-2048 signing and encryption keys made at start-up (the product loads RSA-2048 certificates);
//   access tokens are signed JWTs, not encrypted, as in the product;
// - the token endpoint at the end of this file, which sets a fixed audience instead of looking it up
//   from the scope (the product reads it through its scope cache);
// - plain HTTP on loopback, OpenIddict's HTTPS requirement off (the product sits behind a
//   TLS-terminating proxy); log level Warning, except this tool's own few start-up lines.
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Floor;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

var builder = WebApplication.CreateBuilder(args);
var settings = FloorSettings.Read(builder.Configuration);

builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Floor", LogLevel.Information);

var openIddict = builder.Services.AddOpenIddict();

if (settings.UsesDatabase)
{
    builder.Services.AddDbContext<FloorDbContext>(options =>
    {
        options.UseSqlite(new SqliteConnectionStringBuilder { DataSource = settings.Database }.ToString());
        options.UseOpenIddict();
    });

    openIddict.AddCore(options =>
    {
        options.UseEntityFrameworkCore().UseDbContext<FloorDbContext>();
        if (settings.Mode == FloorMode.Stock)
        {
            options.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, CachingApplicationManager>();
        }
    });
}

if (settings.Mode == FloorMode.Stock)
{
    builder.Services.AddSingleton<ClientCaches>();
}

openIddict.AddServer(options =>
{
    options.SetTokenEndpointUris("connect/token");
    options.AllowClientCredentialsFlow();

    options.AddSigningKey(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "floor-signing" });
    // OpenIddict needs an encryption key even when, as in the cc scenario, no token is encrypted.
    options.AddEncryptionKey(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "floor-encryption" });
    options.DisableAccessTokenEncryption();

    options.UseAspNetCore()
        .EnableTokenEndpointPassthrough()
        .DisableTransportSecurityRequirement();

    switch (settings.Mode)
    {
        case FloorMode.Degraded:
            // Without stores, OpenIddict leaves client authentication to the host and keeps no tokens.
            options.EnableDegradedMode();
            options.DisableTokenStorage();
            options.DisableAuthorizationStorage();
            // Without a scope store, only scopes registered here are accepted.
            options.RegisterScopes(FloorSettings.Scope);
            var workerSecret = Encoding.UTF8.GetBytes(settings.WorkerSecret);
            options.AddEventHandler<ValidateTokenRequestContext>(handler =>
                handler.UseInlineHandler(context => CheckWorkerCredentials(context, workerSecret)));
            break;

        case FloorMode.Sqlite:
            // OpenIddict as documented: the stores authenticate the client and keep every token.
            break;

        case FloorMode.Stock:
            // OpenIddict's default rolling refresh tokens: each use redeems the presented token (a row
            // update) and returns a new one (a row insert); the default 30 s reuse leeway is also the
            // product's. Refresh tokens are encrypted with the key above.
            options.AllowRefreshTokenFlow();
            options.SetIntrospectionEndpointUris("connect/introspect");
            break;
    }
});

var app = builder.Build();

if (settings.UsesDatabase)
{
    await CreateDatabaseAsync(app.Services, settings, app.Logger);
}

// As a Delegate: taken as a RequestDelegate, the returned IResult would never be executed.
app.MapPost("connect/token", (Delegate)ExchangeAsync);

var server = app.Services.GetRequiredService<IOptions<OpenIddictServerOptions>>().Value;
app.Logger.LogInformation(
    "Mode {Mode}: grant types {GrantTypes}, token storage {TokenStorage}, database {Database}",
    settings.Mode,
    string.Join(' ', server.GrantTypes),
    server.DisableTokenStorage ? "off" : "on",
    settings.Database ?? "none");

await app.RunAsync();

// Degraded mode's stand-in for OpenIddict's client authentication: the one known client, its secret
// compared in constant time (no stored hash, so no PBKDF2).
static ValueTask CheckWorkerCredentials(ValidateTokenRequestContext context, byte[] workerSecret)
{
    var given = Encoding.UTF8.GetBytes(context.Request.ClientSecret ?? string.Empty);
    if (!string.Equals(context.Request.ClientId, FloorSettings.WorkerClientId, StringComparison.Ordinal) ||
        !CryptographicOperations.FixedTimeEquals(given, workerSecret))
    {
        context.Reject(Errors.InvalidClient, "The client credentials are invalid.");
    }
    return default;
}

// A new, empty database with OpenIddict's tables, in WAL mode like the product's new SQLite databases,
// and the clients and scope of the benchmark, created through OpenIddict's managers (secrets hashed
// with PBKDF2, as in any OpenIddict store).
static async Task CreateDatabaseAsync(IServiceProvider services, FloorSettings settings, ILogger logger)
{
    await using var scope = services.CreateAsyncScope();
    var database = scope.ServiceProvider.GetRequiredService<FloorDbContext>().Database;
    await database.EnsureCreatedAsync();
    await database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");

    // synchronous is per connection; nothing sets it here, so this is what every connection uses.
    var connection = database.GetDbConnection();
    await connection.OpenAsync();
    await using (var command = connection.CreateCommand())
    {
        command.CommandText = """
            SELECT sqlite_version() || ', journal_mode ' || journal_mode || ', synchronous ' ||
                   CASE synchronous WHEN 0 THEN 'OFF' WHEN 1 THEN 'NORMAL' WHEN 2 THEN 'FULL' ELSE 'EXTRA' END
            FROM pragma_journal_mode(), pragma_synchronous();
            """;
        logger.LogInformation("SQLite {Sqlite}", await command.ExecuteScalarAsync());
    }
    await connection.CloseAsync();

    // The resource is stored as in the product's seed, though the token endpoint below does not read it.
    await scope.ServiceProvider.GetRequiredService<IOpenIddictScopeManager>().CreateAsync(new OpenIddictScopeDescriptor
    {
        Name = FloorSettings.Scope,
        Resources = { FloorSettings.Resource },
    });

    var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
    var worker = new OpenIddictApplicationDescriptor
    {
        ClientId = FloorSettings.WorkerClientId,
        ClientSecret = settings.WorkerSecret,
        ClientType = ClientTypes.Confidential,
        Permissions =
        {
            Permissions.Endpoints.Token,
            Permissions.GrantTypes.ClientCredentials,
            Permissions.Prefixes.Scope + FloorSettings.Scope,
        },
    };

    if (settings.Mode == FloorMode.Stock)
    {
        // offline_access needs no scope permission, only the refresh_token grant.
        worker.Permissions.Add(Permissions.GrantTypes.RefreshToken);
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = FloorSettings.ApiClientId,
            ClientSecret = settings.ApiSecret,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Introspection },
        });
    }

    await applications.CreateAsync(worker);
}

// The token endpoint (passthrough). OpenIddict has already authenticated the client and validated
// the grant and the scopes; this only says who the token is for.
static async Task<IResult> ExchangeAsync(HttpContext context)
{
    var request = context.GetOpenIddictServerRequest()
        ?? throw new InvalidOperationException("The OpenIddict server request cannot be retrieved.");

    var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
    if (request.IsClientCredentialsGrantType())
    {
        // With "orders offline_access" (Stock mode), OpenIddict also returns a refresh token.
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetScopes(request.GetScopes());
    }
    else if (request.IsRefreshTokenGrantType())
    {
        // The principal stored in the refresh token OpenIddict has just validated and redeemed.
        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        if (result.Principal is not { } stored)
        {
            return Forbid(Errors.InvalidGrant, "The refresh token is no longer valid.");
        }
        identity.SetClaim(Claims.Subject, stored.GetClaim(Claims.Subject));
        identity.SetScopes(stored.GetScopes());
    }
    else
    {
        // OpenIddict rejects every grant type not enabled above before this endpoint is reached.
        throw new InvalidOperationException($"The grant type {request.GrantType} is not supported.");
    }

    identity.SetResources(FloorSettings.Resource);
    identity.SetDestinations(static _ => [Destinations.AccessToken]);
    return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);

    static IResult Forbid(string error, string description) => Results.Forbid(
        authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme],
        properties: new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }));
}
