using IdentityServer.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using OpenIddict.Validation.AspNetCore;

namespace IdentityServer.Admin;

/// <summary>The admin API (JSON, with its OpenAPI document) and the admin pages.</summary>
internal static class AdminSetup
{
    public const string OpenApiPath = AdminApi.Prefix + "/openapi.json";

    public static WebApplicationBuilder AddAdmin(this WebApplicationBuilder builder)
    {
        // The admin API validates this server's own access tokens. Token entry validation reads the
        // token row, so a token revoked by ending its session or by the revocation endpoint is refused at once.
        builder.Services.AddOpenIddict()
            .AddValidation(options =>
            {
                options.UseLocalServer();
                options.UseAspNetCore();
                options.EnableTokenEntryValidation();
                // DPoP-bound tokens with their proof (a client registered with RequireDPoP gets no other).
                options.AcceptDPoP();
            });

        builder.Services.AddAuthentication()
            .AddPolicyScheme(AdminAccess.ApiScheme, "Admin API: bearer token or IdP cookie", options =>
            {
                options.ForwardDefaultSelector = static context =>
                    context.Request.Headers.Authorization.Count > 0
                        ? OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme
                        : IdentityConstants.ApplicationScheme;
                // An API answers 401 with WWW-Authenticate and 403, never with a redirect to the sign-in page.
                options.ForwardChallenge = AdminChallengeHandler.SchemeName;
                options.ForwardForbid = OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, AdminChallengeHandler>(AdminChallengeHandler.SchemeName, null);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminAccess.ApiPolicy, policy => policy
                .AddAuthenticationSchemes(AdminAccess.ApiScheme)
                .RequireAuthenticatedUser()
                .AddRequirements(new AdminAccessRequirement()))
            .AddPolicy(AdminAccess.PagesPolicy, policy => policy
                .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser()
                .RequireRole(AdminScope.Role));

        builder.Services.Configure<Microsoft.AspNetCore.Mvc.RazorPages.RazorPagesOptions>(options => options.Conventions
            .AuthorizeFolder("/Admin", AdminAccess.PagesPolicy)
            .AddFolderApplicationModelConvention("/Admin", static page =>
            {
                page.EndpointMetadata.Add(new EnableRateLimitingAttribute(RateLimitSetup.AdminPolicy));
                page.Filters.Add(new ConcurrencyConflictPageFilter());
            }));

        builder.Services.AddProblemDetails();
        builder.Services.AddScoped<UserAdministration>();
        builder.Services.AddScoped<UserManagement>();
        builder.Services.AddScoped<ClientManagement>();
        builder.Services.AddScoped<ScopeManagement>();
        builder.Services.AddScoped<ConfigurationExport>();

        builder.Services.AddOpenApi(options =>
        {
            // One document, for the admin API only (the OAuth endpoints are described by discovery).
            options.ShouldInclude = static description =>
                description.RelativePath?.StartsWith(AdminApi.Prefix[1..] + "/", StringComparison.OrdinalIgnoreCase) == true;
            options.AddDocumentTransformer(static (document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Identity provider admin API",
                    Version = "1",
                    Description = "Accounts, sessions, security events and sign-in statistics. " +
                        $"Call it with an access token carrying the '{AdminScope.Name}' scope (audience '{AdminScope.Resource}'), " +
                        "or from the admin pages with the sign-in cookie of an account in the 'admin' role plus the antiforgery " +
                        "token in the RequestVerificationToken header for unsafe methods.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["oauth2"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.OAuth2,
                    Description = $"A client_credentials access token with the '{AdminScope.Name}' scope, sent as 'Authorization: Bearer'.",
                    Flows = new OpenApiOAuthFlows
                    {
                        ClientCredentials = new OpenApiOAuthFlow
                        {
                            TokenUrl = new Uri("/connect/token", UriKind.Relative),
                            Scopes = new Dictionary<string, string> { [AdminScope.Name] = "Administer accounts and sessions." },
                        },
                    },
                };
                document.Components.SecuritySchemes["cookie"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Cookie,
                    Name = "idp.session",
                    Description = "The identity provider's sign-in cookie of an account in the 'admin' role (unsafe methods also need the antiforgery header).",
                };
                document.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("oauth2", document)] = [AdminScope.Name] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("cookie", document)] = [] },
                ];
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    public static WebApplication MapAdmin(this WebApplication app)
    {
        // Requests the API rejects before any endpoint code runs (a query value that does not
        // parse) get a ProblemDetails body too, not an empty 400.
        app.UseWhen(
            static context => context.Request.Path.StartsWithSegments(AdminApi.Prefix, StringComparison.OrdinalIgnoreCase),
            static branch => branch.UseStatusCodePages());
        app.MapOpenApi(OpenApiPath);
        app.MapAdminApi();
        return app;
    }
}
