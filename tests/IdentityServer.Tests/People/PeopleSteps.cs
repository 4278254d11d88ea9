using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityServer.Data;
using IdentityServer.Tests.Admin;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.People;

/// <summary>Steps the runtime user-management tests share: admin API calls with JSON bodies, and the invitation page.</summary>
internal static class PeopleSteps
{
    public const string InvitedPassword = "Invited-Passw0rd!";

    /// <summary>Sends a JSON body (or raw text, for malformed bodies) to the admin API with a bearer token.</summary>
    public static async Task<HttpResponseMessage> SendJsonAsync(OidcTestClient client, HttpMethod method, string path, object? body, string? token = null, string? raw = null)
    {
        token ??= await AdminTestHelpers.AdminTokenAsync(client);
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Content = raw is not null
            ? new StringContent(raw, System.Text.Encoding.UTF8, "application/json")
            : body is null ? null : JsonContent.Create(body);
        return await client.Http.SendAsync(request);
    }

    public static Task<HttpResponseMessage> CreateUserAsync(OidcTestClient client, object body, string? token = null) =>
        SendJsonAsync(client, HttpMethod.Post, "/api/admin/users", body, token);

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Opens an invitation link and chooses the password on its page.</summary>
    public static async Task<HttpResponseMessage> AcceptAsync(OidcTestClient client, Uri link, string password = InvitedPassword)
    {
        var page = await client.NavigateAsync(Email.AccountMailSteps.Local(link));
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        return await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.NewPassword"] = password, ["Input.ConfirmPassword"] = password });
    }

    public static Task<int> UserCountAsync(IdentityServerFactory factory) => factory.WithScopeAsync(services =>
        Task.FromResult(services.GetRequiredService<UserManager<ApplicationUser>>().Users.Count()));
}
