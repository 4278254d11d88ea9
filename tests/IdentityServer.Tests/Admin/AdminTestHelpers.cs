using System.Net.Http.Headers;
using System.Text.Json;
using IdentityServer.Admin;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Admin;

/// <summary>Calls and set-up shared by the admin tests: tokens, throw-away accounts, code flows as any user.</summary>
internal static class AdminTestHelpers
{
    public const string Password = "Test-Passw0rd!";

    public static async Task<string> AdminTokenAsync(OidcTestClient client)
    {
        var response = await client.TokenAsync(
            ("grant_type", "client_credentials"), ("client_id", TestSeed.AdminClientId),
            ("client_secret", TestSeed.AdminClientSecret), ("scope", AdminScope.Name));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.Status);
        return response["access_token"]!;
    }

    /// <summary>A request to the admin API, with a bearer token when given (the client's cookies go along in any case).</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? token = null, string? antiforgery = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (antiforgery is not null)
        {
            request.Headers.Add("RequestVerificationToken", antiforgery);
        }
        return http.SendAsync(request);
    }

    /// <summary>An admin API request with a JSON body (or none), authorized by <paramref name="token"/>.</summary>
    public static async Task<HttpResponseMessage> SendJsonAsync(OidcTestClient client, string token, HttpMethod method, string path, string? json)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative))
        {
            Content = json is null ? null : new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await client.Http.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>A fresh account, so a test that locks or deletes it does not disturb the others.</summary>
    public static Task<string> CreateUserAsync(IdentityServerFactory factory, string userName) => factory.WithScopeAsync(async services =>
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        var user = new ApplicationUser { UserName = userName, Email = userName + "@example.com", EmailConfirmed = true };
        var result = await users.CreateAsync(user, Password);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return user.Id;
    });

    public static Task<string> UserIdAsync(IdentityServerFactory factory, string userName) => factory.WithScopeAsync(async services =>
        (await services.GetRequiredService<UserManager<ApplicationUser>>().FindByNameAsync(userName))!.Id);

    /// <summary>The code flow of the confidential web client, signing in as the given account.</summary>
    public static async Task<TokenResponse> CodeFlowAsync(OidcTestClient client, string login, string password = Password)
    {
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(
            OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile offline_access orders", pkce), login, password);
        var code = OidcTestClient.Query(redirect)["code"];
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(System.Net.HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    public static Task<List<UserSession>> SessionsAsync(IdentityServerFactory factory, string userId) => factory.WithScopeAsync(services =>
        services.GetRequiredService<ApplicationDbContext>().Sessions.AsNoTracking().Where(s => s.UserId == userId).ToListAsync());

    /// <summary>Signs in through the sign-in page directly: true when the sign-in cookie was issued.</summary>
    public static async Task<bool> TrySignInAsync(OidcTestClient client, string login, string password = Password)
    {
        var page = await client.NavigateAsync("/Account/Login");
        var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = password });
        return OidcTestClient.IsRedirect(response);
    }

    /// <summary>The antiforgery token of a page (any POST form on it), for a cookie-authenticated API call.</summary>
    public static async Task<string> AntiforgeryTokenAsync(OidcTestClient client, string pagePath)
    {
        var page = await client.NavigateAsync(pagePath);
        var document = await OidcTestClient.ParseAsync(page);
        var input = document.QuerySelector("input[name=__RequestVerificationToken]");
        Assert.NotNull(input);
        return input.GetAttribute("value")!;
    }
}
