using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Validation.AspNetCore;

namespace IdentityServer.Admin;

/// <summary>
/// Answers an unauthenticated admin API call with OpenIddict's bearer challenge (401 with
/// <c>WWW-Authenticate: Bearer</c>), also when the request was authenticated through the cookie.
/// OpenIddict words its challenge from its own authentication of the request, and without one it
/// reports insufficient_access (403); so the token is looked at first, which finds it missing or invalid.
/// </summary>
internal sealed class AdminChallengeHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminApi.Challenge";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await Context.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        await Context.ChallengeAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme, properties);
    }
}
