using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using ClientSamples.WebApp.Authentication;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using static ClientSamples.WebApp.Pages.Html;
using Tokens = OpenIddict.Client.AspNetCore.OpenIddictClientAspNetCoreConstants.Tokens;

namespace ClientSamples.WebApp.Pages;

internal static class PageEndpoints
{
    public static void AddPages(this WebApplicationBuilder builder) =>
        builder.Services.AddHttpClient("api", (services, client) =>
            client.BaseAddress = services.GetRequiredService<IOptions<WebAppSettings>>().Value.ApiBaseAddress);

    public static void MapPages(this WebApplication app)
    {
        app.MapGet("/", (HttpContext context, IAntiforgery antiforgery, IOptions<WebAppSettings> settings) =>
        {
            var app = settings.Value.ClientId;
            if (context.User.Identity?.IsAuthenticated != true)
            {
                var reason = context.Items[SessionCookieValidator.SignedOutReasonKey] as string;
                return Page(app, "Signed out",
                    $"<p id=\"signed-out\">You are signed out.{(reason is null ? "" : " " + E(reason))}</p>" +
                    "<p><a id=\"sign-in\" href=\"/login\">Sign in</a></p>");
            }
            var tokens = antiforgery.GetAndStoreTokens(context);
            return Page(app, "Home",
                $"<p id=\"signed-in\">Signed in as <strong id=\"user-name\">{E(context.User.Identity.Name)}</strong>.</p>" +
                (settings.Value.ShowTokens ? "<p><a href=\"/tokens\">Tokens</a> (development aid)</p>" : "") +
                $"<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken)}\">" +
                "<button id=\"sign-out\" type=\"submit\">Sign out</button></form>");
        });

        app.MapGet("/claims", (ClaimsPrincipal user, IOptions<WebAppSettings> settings) =>
        {
            var rows = new StringBuilder("<dl id=\"claims\">");
            foreach (var claim in user.Claims)
            {
                rows.Append("<dt>").Append(E(claim.Type)).Append("</dt><dd data-claim=\"").Append(E(claim.Type)).Append("\">")
                    .Append(E(claim.Value)).Append("</dd>");
            }
            return Page(settings.Value.ClientId, "Your claims", rows.Append("</dl>").ToString());
        }).RequireAuthorization();

        app.MapGet("/call-api", async (HttpContext context, IHttpClientFactory factory, IOptions<WebAppSettings> settings) =>
        {
            // The cookie handler has already refreshed the token if it was about to expire.
            var token = await context.GetTokenAsync(AuthenticationSetup.CookieScheme, Tokens.BackchannelAccessToken);
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/hello");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            string status, body;
            try
            {
                using var response = await factory.CreateClient("api").SendAsync(request, context.RequestAborted);
                status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                body = await response.Content.ReadAsStringAsync(context.RequestAborted);
            }
            catch (HttpRequestException exception)
            {
                status = "unreachable";
                body = exception.Message;
            }
            return Page(settings.Value.ClientId, "Call the API",
                $"<p>GET {E(new Uri(settings.Value.ApiBaseAddress, "api/hello").AbsoluteUri)}</p>" +
                $"<pre id=\"api-result\" data-status=\"{E(status)}\">{E(status)}\n{E(body)}</pre>");
        }).RequireAuthorization();

        app.MapGet("/tokens", async (HttpContext context, IOptions<WebAppSettings> settings) =>
        {
            if (!settings.Value.ShowTokens)
            {
                return Results.NotFound();
            }
            var result = await context.AuthenticateAsync(AuthenticationSetup.CookieScheme);
            var list = new StringBuilder("<dl>");
            foreach (var (name, id) in new[]
            {
                (Tokens.BackchannelAccessToken, "access-token"), (Tokens.BackchannelAccessTokenExpirationDate, "access-token-expires"),
                (Tokens.RefreshToken, "refresh-token"), (Tokens.BackchannelIdentityToken, "identity-token"),
            })
            {
                list.Append("<dt>").Append(E(name)).Append("</dt><dd id=\"").Append(id).Append("\">")
                    .Append(E(result.Properties?.GetTokenValue(name))).Append("</dd>");
            }
            return Page(settings.Value.ClientId, "Tokens", list.Append("</dl>").ToString());
        }).RequireAuthorization();
    }
}
