using System.Net;
using System.Security.Cryptography.X509Certificates;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Certificates;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Account;

/// <summary>
/// What is typed as the login of an unknown account (often a password typed into the wrong field)
/// never reaches the audit trail or the admin views: a keyed hash of it does.
/// </summary>
public sealed class UnknownLoginAuditTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task UnknownLogin_PasswordTypedAsTheName_LeavesNoTraceInTheAuditTrailOrAdminViews()
    {
        var typed = "Tr0ub4dor-3-" + Guid.NewGuid().ToString("N")[..12];
        Assert.Equal("The username or password is incorrect.", await SignInAsync(typed));

        var recorded = Assert.Single(await UnknownEventsAsync(), e => e.UserName == Pseudonym(typed));
        Assert.Equal((SecurityEventTypes.SignInFailed, null, "unknown_account"), (recorded.Type, recorded.UserId, recorded.Detail));
        var shown = recorded.UserName!;
        Assert.Matches("^unknown:[0-9a-f]{16}$", shown);
        // No column of any event holds the text, in any letter case.
        var everything = await factory.WithScopeAsync(static services =>
            services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking().ToListAsync());
        Assert.DoesNotContain(everything.SelectMany(static e => new[] { e.Type, e.UserId, e.UserName, e.SessionId, e.ClientId, e.IpAddress, e.UserAgent, e.Actor, e.Detail }),
            value => value?.Contains(typed, StringComparison.OrdinalIgnoreCase) == true);

        using var admin = factory.CreateOidcClient();
        using var api = await SendAsync(admin.Http, HttpMethod.Get, "/api/admin/events?limit=1000", await AdminTokenAsync(admin));
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        var json = await api.Content.ReadAsStringAsync();
        Assert.Contains(shown, json, StringComparison.Ordinal);
        Assert.DoesNotContain(typed, json, StringComparison.OrdinalIgnoreCase);

        await admin.SignInThroughPortalAsync();
        using var page = await admin.NavigateAsync("/Admin/Events?type=" + SecurityEventTypes.SignInFailed);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain(typed, html, StringComparison.OrdinalIgnoreCase);
        var rows = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(html).QuerySelectorAll("#events .unknown-login");
        Assert.Contains(rows, cell => cell.TextContent == shown);
    }

    [Fact]
    public async Task UnknownLogin_SameNameTwice_IsRecordedTheSameAndAnotherNameDifferently()
    {
        await SignInAsync("mallory-unknown");
        await SignInAsync("  MALLORY-Unknown ");
        await SignInAsync("mallory-unknown2");

        var names = (await UnknownEventsAsync()).Select(static e => e.UserName).ToList();
        Assert.Equal(2, names.Count(n => n == Pseudonym("mallory-unknown")));
        Assert.Equal(1, names.Count(n => n == Pseudonym("mallory-unknown2")));
        Assert.NotEqual(Pseudonym("mallory-unknown"), Pseudonym("mallory-unknown2"));
    }

    [Fact]
    public void UnknownLoginNames_SameCertificate_GiveTheSameNameOnEveryNode_AndAnotherCertificateAnother()
    {
        var clock = TimeProvider.System;
        using var encryption = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.EncryptionPath, TestCertificates.Password, X509KeyStorageFlags.EphemeralKeySet);
        using var other = X509CertificateLoader.LoadPkcs12FromFile(TestCertificates.SigningPath, TestCertificates.Password, X509KeyStorageFlags.EphemeralKeySet);

        var node = new UnknownLoginNames(new CertificateSet([], [encryption], null, null), clock);
        var otherKey = new UnknownLoginNames(new CertificateSet([], [other], null, null), clock);

        Assert.Equal(Pseudonym("someone"), node.Pseudonym("someone"));
        Assert.NotEqual(node.Pseudonym("someone"), otherKey.Pseudonym("someone"));
    }

    /// <summary>What the running server records for a login (the same key as every node with its certificates).</summary>
    private string Pseudonym(string login) => factory.Services.GetRequiredService<UnknownLoginNames>().Pseudonym(login);

    private async Task<string?> SignInAsync(string login)
    {
        using var client = factory.CreateOidcClient();
        using var page = await client.NavigateAsync("/Account/Login");
        using var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = "Wrong-Passw0rd!" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await OidcTestClient.ParseAsync(response)).QuerySelector("#login-error")?.TextContent;
    }

    private Task<List<SecurityEvent>> UnknownEventsAsync() => factory.WithScopeAsync(static services =>
        services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(static e => e.Detail == "unknown_account").ToListAsync());
}
