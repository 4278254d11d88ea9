using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.StepUp;

/// <summary>Authorization requests of the step-up tests, and what they lead to.</summary>
internal static class StepUpSteps
{
    /// <summary>A code request of the vault (RequireMfa), PKCE included.</summary>
    public static (Dictionary<string, string?> Parameters, Pkce Pkce) Vault(string? acrValues = null, string? prompt = null)
    {
        var pkce = Pkce.Create();
        var parameters = OidcTestClient.CodeRequest(StepUpFactory.VaultClientId, StepUpFactory.VaultRedirectUri, "openid offline_access", pkce);
        Add(parameters, acrValues, prompt);
        return (parameters, pkce);
    }

    /// <summary>A code request of the portal (no requirement of its own, implicit consent).</summary>
    public static Dictionary<string, string?> Portal(string? acrValues = null, string? prompt = null)
    {
        var parameters = OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null);
        Add(parameters, acrValues, prompt);
        return parameters;
    }

    /// <summary>Redeems the vault's code from its redirect: the token response.</summary>
    public static async Task<TokenResponse> RedeemVaultAsync(OidcTestClient browser, Uri redirect, Pkce pkce)
    {
        Assert.StartsWith(StepUpFactory.VaultRedirectUri, redirect.AbsoluteUri, StringComparison.Ordinal);
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", StepUpFactory.VaultRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", StepUpFactory.VaultClientId), ("client_secret", StepUpFactory.VaultSecret));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    /// <summary>Redeems the portal's code from its redirect: the token response.</summary>
    public static async Task<TokenResponse> RedeemPortalAsync(OidcTestClient browser, Uri redirect)
    {
        Assert.StartsWith(TestSeed.PortalRedirectUri, redirect.AbsoluteUri, StringComparison.Ordinal);
        var tokens = await browser.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]), ("redirect_uri", TestSeed.PortalRedirectUri),
            ("client_id", TestSeed.ImplicitConsentClientId), ("client_secret", "portal-secret-0123456789"));
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    public static string? Acr(string idToken) => Jwt.Payload(idToken).GetProperty("acr").GetString();

    public static IEnumerable<string?> Amr(string idToken) => Jwt.Payload(idToken).GetProperty("amr").EnumerateArray().Select(static v => v.GetString());

    /// <summary>The path the browser ended on.</summary>
    public static string PathOf(HttpResponseMessage response) => response.RequestMessage!.RequestUri!.AbsolutePath;

    /// <summary>Asserts a redirect to the client (not a page of ours) and returns it.</summary>
    public static Uri ToClient(HttpResponseMessage response)
    {
        Assert.True(OidcTestClient.IsRedirect(response) && !OidcTestClient.IsLocal(response.Headers.Location!),
            $"Expected a redirect to the client, got {(int)response.StatusCode} at {response.RequestMessage!.RequestUri}");
        return response.Headers.Location!;
    }

    private static void Add(Dictionary<string, string?> parameters, string? acrValues, string? prompt)
    {
        if (acrValues is not null)
        {
            parameters["acr_values"] = acrValues;
        }
        if (prompt is not null)
        {
            parameters["prompt"] = prompt;
        }
    }
}
