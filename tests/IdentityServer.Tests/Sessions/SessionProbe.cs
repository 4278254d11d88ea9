using AngleSharp.Html.Dom;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Sessions;

/// <summary>Reads sessions and security events straight from the server's database, and drives flows as any user.</summary>
internal static class SessionProbe
{
    public const string ChromeOnWindows =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    public static Task<UserSession?> FindAsync(IdentityServerFactory factory, string sessionId) =>
        factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().Sessions.AsNoTracking()
            .Include(s => s.Clients).FirstOrDefaultAsync(s => s.Id == sessionId));

    public static Task<List<UserSession>> ForUserAsync(IdentityServerFactory factory, string userName) =>
        factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().Sessions.AsNoTracking()
            .Where(s => s.UserName == userName).OrderBy(s => s.CreatedAt).ToListAsync());

    public static Task<List<SecurityEvent>> EventsAsync(IdentityServerFactory factory, string sessionId) =>
        factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(e => e.SessionId == sessionId).OrderBy(e => e.Id).ToListAsync());

    public static Task<bool> EndAsync(IdentityServerFactory factory, string sessionId, string reason, string actor) =>
        factory.WithScopeAsync(services => services.GetRequiredService<SessionService>().EndAsync(sessionId, reason, actor, CancellationToken.None));

    /// <summary>The session id (<c>sid</c>) in an ID or access token.</summary>
    public static string Sid(string jwt) => Jwt.Payload(jwt).GetProperty("sid").GetString()!;

    /// <summary>The code flow of the confidential web client for any user.</summary>
    public static async Task<TokenResponse> CodeFlowAsAsync(this OidcTestClient client, string login, string password, string scope = "openid profile offline_access orders")
    {
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(TestSeed.WebClientId, TestSeed.WebRedirectUri, scope, pkce), login, password);
        var code = OidcTestClient.Query(redirect)["code"];
        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", TestSeed.WebRedirectUri),
            ("code_verifier", pkce.Verifier), ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal(System.Net.HttpStatusCode.OK, tokens.Status);
        return tokens;
    }

    /// <summary>Submits the form matched by a CSS selector on a page (hidden fields and antiforgery token included).</summary>
    public static async Task<HttpResponseMessage> SubmitFormAsync(this OidcTestClient client, HttpResponseMessage page, string selector, IDictionary<string, string>? values = null)
    {
        var document = await OidcTestClient.ParseAsync(page);
        var form = document.QuerySelector(selector) as IHtmlFormElement ?? throw new InvalidOperationException($"No form matches '{selector}'.");
        var fields = form.Elements.OfType<IHtmlInputElement>().Where(i => !string.IsNullOrEmpty(i.Name))
            .Select(i => new KeyValuePair<string, string>(i.Name!, values is not null && values.TryGetValue(i.Name!, out var value) ? value : i.Value))
            .ToList();
        var action = string.IsNullOrEmpty(form.GetAttribute("action"))
            ? page.RequestMessage!.RequestUri!
            : new Uri(IdentityServerFactory.BaseAddress, form.GetAttribute("action"));
        return await client.Http.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    /// <summary>True when the introspection endpoint says the token is active.</summary>
    public static async Task<bool> IsActiveAsync(this OidcTestClient client, string token) =>
        (await client.IntrospectAsync(token)).Json.GetProperty("active").GetBoolean();
}
