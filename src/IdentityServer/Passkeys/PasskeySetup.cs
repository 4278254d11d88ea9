using TokenOptions = IdentityServer.Authorization.TokenOptions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace IdentityServer.Passkeys;

/// <summary>
/// Passkeys (WebAuthn) with ASP.NET Core Identity's own passkey handler: "Sign in with a passkey"
/// on the sign-in page, and adding, renaming and removing passkeys on the Security page. The
/// browser side is wwwroot/js/passkeys.js, which asks the endpoints here for the options and posts
/// the browser's answer back through the pages' ordinary forms.
/// </summary>
internal static class PasskeySetup
{
    public static WebApplicationBuilder AddPasskeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PasskeyOptions>()
            .Bind(builder.Configuration.GetSection(PasskeyOptions.Section))
            .ValidateDataAnnotations()
            .Validate<IOptions<TokenOptions>>(
                static (passkeys, tokens) => passkeys.ServerDomain is not { } domain || passkeys.AllowedOrigins.Count > 0
                    || tokens.Value.Issuer is not { IsAbsoluteUri: true } issuer || PasskeyOptions.IsOnDomain(issuer.IdnHost, domain),
                $"{PasskeyOptions.Section}:ServerDomain must be the issuer's host or a domain it belongs to, unless {PasskeyOptions.Section}:AllowedOrigins names the origins.")
            .ValidateOnStart();
        builder.Services.AddSingleton<PasskeyRelyingParty>();

        builder.Services.AddOptions<IdentityPasskeyOptions>().Configure<PasskeyRelyingParty>(static (options, relyingParty) =>
        {
            options.ServerDomain = relyingParty.ServerDomain;
            options.ValidateOrigin = context => ValueTask.FromResult(relyingParty.IsAllowed(context.Origin, context.CrossOrigin, context.HttpContext.Request));
            // The PIN or biometric makes the key a second factor (amr mfa): never optional.
            options.UserVerificationRequirement = "required";
            // Discoverable credentials: signing in starts without a user name.
            options.ResidentKeyRequirement = "required";
        });

        builder.Services.AddScoped<PasskeySignIn>();
        builder.Services.AddScoped<AccountPasskeys>();
        return builder;
    }

    public static WebApplication MapPasskeys(this WebApplication app)
    {
        app.MapPasskeyOptions();
        return app;
    }
}
