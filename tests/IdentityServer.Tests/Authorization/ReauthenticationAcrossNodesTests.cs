using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace IdentityServer.Tests.Authorization;

/// <summary>The re-authentication marker is used up for every node of a cluster, not only the one that used it.</summary>
public sealed class ReauthenticationAcrossNodesTests
{
    [Fact]
    public async Task Reauthentication_PostSignInUrlOpenedAgainOnAnotherNode_AsksForSignInAgain()
    {
        using var first = new IdentityServerFactory();
        using var second = new IdentityServerFactory();
        second.Settings["ConnectionStrings:Default"] = first.ConnectionString;
        // SQLite keeps data-protection keys in a folder, which two nodes on one file share; PostgreSQL keeps them in the database.
        second.Settings["DataProtection:KeysPath"] = first.Settings["DataProtection:KeysPath"];
        var cookies = new System.Net.CookieContainer();
        using var onFirst = new OidcTestClient(first.CreateDefaultClient(IdentityServerFactory.BaseAddress, new CookieContainerHandler(cookies)));
        using var onSecond = new OidcTestClient(second.CreateDefaultClient(IdentityServerFactory.BaseAddress, new CookieContainerHandler(cookies)));

        await onFirst.SignInThroughPortalAsync();
        var parameters = ReauthenticationTests.PortalRequest("cluster");
        parameters["prompt"] = "login";
        var (postSignInUrl, signedIn) = await ReauthenticationTests.SignInForAsync(onFirst, parameters);
        signedIn.Dispose();

        // The second node reads the session (and may keep it in its cache) while the marker is unused.
        using var seen = await onSecond.GetAuthorizeAsync(ReauthenticationTests.PortalRequest("seen"));
        ReauthenticationTests.AssertCode(seen);

        using var used = await onFirst.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        ReauthenticationTests.AssertCode(used);
        using var replay = await onSecond.Http.GetAsync(new Uri(postSignInUrl, UriKind.Relative));
        ReauthenticationTests.AssertSentToSignIn(replay);
    }
}
