using System.Net;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Database;

/// <summary>Two server instances on one database, as two nodes behind a load balancer.</summary>
public sealed class SharedDatabaseTests
{
    /// <summary>
    /// A second host on the first one's database. On PostgreSQL it keeps its own (empty) key folder,
    /// so only keys in the database can make the first host's cookies readable; SQLite keeps keys in
    /// a folder by design, which two instances on one file share.
    /// </summary>
    private static IdentityServerFactory SecondNode(IdentityServerFactory first)
    {
        var second = new IdentityServerFactory();
        second.Settings["ConnectionStrings:Default"] = first.ConnectionString;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Sqlite)
        {
            second.Settings["DataProtection:KeysPath"] = first.Settings["DataProtection:KeysPath"];
        }
        return second;
    }

    [Fact]
    public async Task SignInCookie_MadeByOneNode_IsAcceptedByAnother()
    {
        using var first = new IdentityServerFactory();
        using var second = SecondNode(first);
        var cookies = new System.Net.CookieContainer();
        using var onFirst = new OidcTestClient(first.CreateDefaultClient(IdentityServerFactory.BaseAddress, new CookieContainerHandler(cookies)));
        await onFirst.SignInThroughPortalAsync();

        // The same browser now reaches the second node: already signed in, so no login page.
        using var onSecond = new OidcTestClient(second.CreateDefaultClient(IdentityServerFactory.BaseAddress, new CookieContainerHandler(cookies)));
        using var response = await onSecond.GetAuthorizeAsync(
            OidcTestClient.CodeRequest(TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri, "openid", null));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(TestSeed.PortalRedirectUri + "?code=", response.Headers.Location!.ToString(), StringComparison.Ordinal);

        var keysInDatabase = await first.WithScopeAsync(services =>
            services.GetRequiredService<ApplicationDbContext>().DataProtectionKeys.CountAsync());
        var keysInFolder = Directory.Exists(second.Settings["DataProtection:KeysPath"])
            ? Directory.GetFiles(second.Settings["DataProtection:KeysPath"]!).Length : 0;
        if (IdentityServerFactory.Provider == TestDatabaseProvider.Postgres)
        {
            Assert.True(keysInDatabase > 0);
            Assert.Equal(0, keysInFolder);
        }
        else
        {
            Assert.Equal(0, keysInDatabase);
            Assert.True(keysInFolder > 0);
        }
    }

    [Fact]
    public async Task DataProtectionKeys_AreStoredEncryptedWithTheEncryptionCertificate()
    {
        using var node = new IdentityServerFactory();
        using var client = node.CreateBrowserlikeClient();
        // The sign-in form's antiforgery token makes the first key.
        using var page = await client.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        var stored = IdentityServerFactory.Provider == TestDatabaseProvider.Postgres
            ? await node.WithScopeAsync(services =>
                services.GetRequiredService<ApplicationDbContext>().DataProtectionKeys.Select(static k => k.Xml!).ToListAsync())
            : [.. Directory.GetFiles(node.Settings["DataProtection:KeysPath"]!).Select(File.ReadAllText)];

        Assert.NotEmpty(stored);
        using var encryption = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
            TestCertificates.EncryptionPath, TestCertificates.Password);
        Assert.All(stored, xml =>
        {
            Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
            // The certificate that can decrypt it is named in the key's <X509Data>.
            Assert.Contains(Convert.ToBase64String(encryption.RawData), xml, StringComparison.Ordinal);
            // An unprotected key keeps its secret in a plain <value> element.
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Startup_TwoNodesAtOnceOnAFreshDatabase_MigrateAndSeedOnce()
    {
        using var first = new IdentityServerFactory();
        using var second = SecondNode(first);

        await Task.WhenAll(Task.Run(() => first.Server), Task.Run(() => second.Server));

        var (history, expected, clients) = await first.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<ApplicationDbContext>();
            var applied = await context.Database.GetAppliedMigrationsAsync();
            var clientCount = await context.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().CountAsync();
            return (applied.ToList(), context.Database.GetMigrations().ToList(), clientCount);
        });
        Assert.Equal(expected, history);
        var seededClients = await second.WithScopeAsync(async services =>
            await services.GetRequiredService<ApplicationDbContext>()
                .Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().Select(a => a.ClientId).ToListAsync());
        Assert.Equal(clients, seededClients.Distinct().Count());
        Assert.Contains(TestSeed.WebClientId, seededClients);
    }
}
