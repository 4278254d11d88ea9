using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Email;

/// <summary>The steps the mail tests share: accounts of their own, the forgot-password form, links and the audit trail.</summary>
internal static class AccountMailSteps
{
    public const string Password = "Mail-Tests-Passw0rd!";

    /// <summary>An account of the test's own, so tests in a class never share a mailbox or a password.</summary>
    public static Task<ApplicationUser> CreateUserAsync(IdentityServerFactory factory, string name, bool emailVerified = true, string? email = null) =>
        factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            var user = new ApplicationUser { UserName = name, Email = email ?? $"{name}@example.com", EmailConfirmed = emailVerified };
            var result = await users.CreateAsync(user, Password);
            Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(static e => e.Description)));
            return user;
        });

    public static Task<ApplicationUser> FindUserAsync(IdentityServerFactory factory, string id) =>
        factory.WithScopeAsync(async services => (await services.GetRequiredService<UserManager<ApplicationUser>>().FindByIdAsync(id))!);

    public static Task<bool> HasPasswordAsync(IdentityServerFactory factory, string id, string password) =>
        factory.WithScopeAsync(async services =>
        {
            var users = services.GetRequiredService<UserManager<ApplicationUser>>();
            return await users.CheckPasswordAsync((await users.FindByIdAsync(id))!, password);
        });

    /// <summary>Posts the forgot-password form for what a person would type.</summary>
    public static async Task<HttpResponseMessage> RequestResetAsync(OidcTestClient client, string login)
    {
        var page = await client.NavigateAsync("/Account/ForgotPassword");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login });
    }

    /// <summary>A link's path and query, as the test client (based at the issuer) requests it.</summary>
    public static string Local(Uri link)
    {
        Assert.Equal(IdentityServerFactory.BaseAddress.Authority, link.Authority);
        return link.PathAndQuery;
    }

    /// <summary>The link with one query parameter's value replaced.</summary>
    public static string WithParameter(Uri link, string name, string value)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query)
            .ToDictionary(static p => p.Key, static p => (string?)p.Value.ToString());
        query[name] = value;
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(link.AbsolutePath, query);
    }

    /// <summary>
    /// Posts a link page's form as the page would have made it (the link's parameters, an
    /// antiforgery token of this browser, the given fields) without opening the link first.
    /// </summary>
    public static async Task<HttpResponseMessage> PostLinkAsync(OidcTestClient client, Uri link, IDictionary<string, string>? fields = null)
    {
        var anyForm = await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/ForgotPassword"));
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(link.Query)
            .Select(static p => new KeyValuePair<string, string>(p.Key, p.Value.ToString()))
            .Append(new("__RequestVerificationToken", anyForm.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!))
            .Concat(fields ?? new Dictionary<string, string>())
            .ToList();
        return await client.Http.PostAsync(new Uri(link.AbsolutePath, UriKind.Relative), new FormUrlEncodedContent(form));
    }

    /// <summary>Asserts the friendly page for a link that cannot be used: 400, the message, no form to change anything (only the footer's language picker).</summary>
    public static async Task AssertInvalidLinkPageAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await OidcTestClient.ParseAsync(response);
        Assert.Equal("This link has expired or was already used.", page.QuerySelector("#invalid-link")?.TextContent);
        Assert.Empty(page.QuerySelectorAll("main form"));
    }

    public static Task<List<SecurityEvent>> EventsAsync(IdentityServerFactory factory, string type, string? userId = null) =>
        factory.WithScopeAsync(services => services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(e => e.Type == type && (userId == null || e.UserId == userId)).OrderBy(static e => e.Id).ToListAsync());

    /// <summary>Waits for an event written after the response (by the mail queue).</summary>
    public static async Task<List<SecurityEvent>> WaitForEventsAsync(IdentityServerFactory factory, string type, string? userId, int count = 1)
    {
        var deadline = DateTime.UtcNow + TestMailServer.DefaultWait;
        while (true)
        {
            var events = await EventsAsync(factory, type, userId);
            if (events.Count >= count || DateTime.UtcNow > deadline)
            {
                return events;
            }
            await Task.Delay(100);
        }
    }
}
