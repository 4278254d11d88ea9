using System.Net;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Keys;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// The admin pages for clients and scopes, used as an administrator would, with no restart: a client
/// registered (its secret shown once), changed, its secret rotated, disabled, enabled and deleted; a
/// scope defined, changed and deleted. The pages use the API's service, so the rules are the same.
/// </summary>
public sealed class AdminClientPagesTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task ClientPages_RegisterRotateDisableEnableDelete_EachTakesEffectAtOnce()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var form = await admin.NavigateAsync("/Admin/Clients/Create");
        var created = await OidcTestClient.ParseAsync(await admin.SubmitAsync(form, new Dictionary<string, string>
        {
            ["Form.ClientId"] = "invoices",
            ["Form.DisplayName"] = "Invoices",
        }, formId: "client-form", extra: [new("Form.GrantTypes", "client_credentials"), new("Form.Scopes", TestSeed.ApiScope)]));

        var first = created.QuerySelector("#new-secret")?.TextContent;
        Assert.False(string.IsNullOrEmpty(first), created.QuerySelector(".error")?.TextContent);
        Assert.True(await WorksAsync(admin, first));

        // Settings: a new display name, saved and shown.
        var page = await admin.NavigateAsync("/Admin/Clients/invoices");
        var saved = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(
            await admin.SubmitAsync(page, new Dictionary<string, string> { ["Form.DisplayName"] = "Invoices v2" }, formId: "client-form")));
        Assert.Equal("Invoices v2", saved.QuerySelector("h1")!.TextContent);
        Assert.Contains(TestSeed.ApiScope, saved.QuerySelectorAll("input[name='Form.Scopes'][checked]").Select(static i => i.GetAttribute("value")));

        // Rotation: a second secret shown once, both work; the first removed, only the second works.
        page = await admin.NavigateAsync("/Admin/Clients/invoices");
        var rotated = await OidcTestClient.ParseAsync(await admin.SubmitAsync(page, new Dictionary<string, string> { ["previousDays"] = "7" }, formId: "add-secret-form"));
        var second = rotated.QuerySelector("#new-secret")!.TextContent;
        Assert.NotEqual(first, second);
        Assert.Equal(2, rotated.QuerySelectorAll("#secrets tbody tr").Length);
        Assert.True(await WorksAsync(admin, first));
        Assert.True(await WorksAsync(admin, second));
        var firstId = rotated.QuerySelectorAll("#secrets tbody tr")[0].GetAttribute("data-secret-id")!;
        page = await admin.NavigateAsync("/Admin/Clients/invoices");
        var removed = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(page, formId: $"remove-secret-{firstId}")));
        Assert.Equal("The secret was removed: it no longer works, on any node.", removed.QuerySelector("#admin-message")!.TextContent);
        Assert.False(await WorksAsync(admin, first));
        Assert.True(await WorksAsync(admin, second));

        // Disabled: refused; enabled: back.
        page = await admin.NavigateAsync("/Admin/Clients/invoices");
        var disabled = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(page, formId: "disable-form")));
        Assert.Equal("Disabled", disabled.QuerySelector("#client-state")!.TextContent);
        Assert.False(await WorksAsync(admin, second));
        page = await admin.NavigateAsync("/Admin/Clients/invoices");
        await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(page, formId: "enable-form"));
        Assert.True(await WorksAsync(admin, second));

        // Deleted only with the client id typed.
        page = await admin.NavigateAsync("/Admin/Clients/invoices");
        var refused = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(
            await admin.SubmitAsync(page, new Dictionary<string, string> { ["confirmClientId"] = "invoice" }, formId: "delete-form")));
        Assert.Equal("Type the client id exactly to confirm the deletion.", refused.QuerySelector("#admin-message")!.TextContent);
        page = await admin.NavigateAsync("/Admin/Clients/invoices");
        var list = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(
            await admin.SubmitAsync(page, new Dictionary<string, string> { ["confirmClientId"] = "invoices" }, formId: "delete-form")));
        Assert.Equal("The client invoices was deleted, with its grants and tokens.", list.QuerySelector("#admin-message")!.TextContent);
        Assert.Null(list.QuerySelector("#clients tr[data-client-id='invoices']"));
        Assert.False(await WorksAsync(admin, second));
    }

    [Fact]
    public async Task ClientPages_KeysPasted_AuthenticateAssertions_ShownOnThePage_GarbleRefused()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var keySet = System.Text.Json.JsonSerializer.Serialize(
            Authorization.PrivateKeyJwtTests.Jwks(new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(key) { KeyId = "page-key" }));
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var form = await admin.NavigateAsync("/Admin/Clients/Create");
        var created = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(form, new Dictionary<string, string>
        {
            ["Form.ClientId"] = "signer-page",
            ["Form.JsonWebKeySet"] = keySet,
        }, formId: "client-form", extra: [new("Form.GrantTypes", "client_credentials"), new("Form.Scopes", TestSeed.ApiScope)])));
        Assert.Null(created.QuerySelector(".error"));
        Assert.Null(created.QuerySelector("#new-secret"));
        var credentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
            new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(key) { KeyId = "page-key" }, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.EcdsaSha256);
        Task<TokenResponse> TokenAsync() => admin.TokenAsync(("grant_type", "client_credentials"), ("scope", TestSeed.ApiScope), ("client_id", "signer-page"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", Authorization.PrivateKeyJwtTests.Assertion("signer-page", credentials, "https://localhost/")));
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync()).Status);

        var page = await admin.NavigateAsync("/Admin/Clients/signer-page");
        Assert.Contains("page-key", (await OidcTestClient.ParseAsync(page)).QuerySelector("textarea[name='Form.JsonWebKeySet']")!.TextContent, StringComparison.Ordinal);
        var garbled = await OidcTestClient.ParseAsync(await admin.SubmitAsync(
            await admin.NavigateAsync("/Admin/Clients/signer-page"), new Dictionary<string, string> { ["Form.JsonWebKeySet"] = "{ not json" }, formId: "client-form"));

        Assert.Contains("must be a JWK Set", garbled.QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync()).Status);
    }

    [Fact]
    public async Task ClientPages_BrokenRule_ShownOnTheForm_NothingRegistered()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var form = await admin.NavigateAsync("/Admin/Clients/Create");
        var answer = await OidcTestClient.ParseAsync(await admin.SubmitAsync(form, new Dictionary<string, string>
        {
            ["Form.ClientId"] = "web2",
            ["Form.RedirectUris"] = "http://web2.example/cb",
        }, formId: "client-form", extra: [new("Form.GrantTypes", "authorization_code")]));

        Assert.Contains("plain http on a non-loopback host", answer.QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
        Assert.Null(answer.QuerySelector("#new-secret"));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.NavigateAsync("/Admin/Clients/web2")).StatusCode);
    }

    [Fact]
    public async Task ScopePages_DefineChangeDelete()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var list = await admin.NavigateAsync("/Admin/Scopes");
        var defined = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(list, new Dictionary<string, string>
        {
            ["Form.Name"] = "reports",
            ["Form.DisplayName"] = "Reports",
            ["Form.Resources"] = "reports-api",
        }, formId: "scope-form")));
        Assert.Equal("The scope reports was defined; clients may be given it now.", defined.QuerySelector("#admin-message")!.TextContent);

        var page = await admin.NavigateAsync("/Admin/Scopes/reports");
        await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(page, new Dictionary<string, string> { ["Form.Resources"] = "reports-api\nreports-api-v2" },
            formId: "scope-form", extra: [new("Form.AccessTokenClaims", "role")]));
        var scopes = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin/Scopes"));
        var cells = scopes.QuerySelector("#scopes tr[data-scope='reports']")!.QuerySelectorAll("td").Select(static c => c.TextContent.Trim()).ToList();
        Assert.Equal(["reports", "Reports", "reports-api reports-api-v2", "role"], cells);

        page = await admin.NavigateAsync("/Admin/Scopes/reports");
        var deleted = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(page, formId: "delete-form")));
        Assert.Equal("The scope reports was deleted.", deleted.QuerySelector("#admin-message")!.TextContent);
        Assert.Null(deleted.QuerySelector("#scopes tr[data-scope='reports']"));
        // The server's own scope is shown, not changed.
        var own = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin/Scopes/idp.admin"));
        Assert.Null(own.QuerySelector("#scope-form"));
    }

    [Fact]
    public async Task KeysPage_CertificatesMode_SaysSo()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();

        var page = await OidcTestClient.ParseAsync(await admin.NavigateAsync("/Admin/Keys"));

        Assert.Contains("Keys:Mode=Certificates", page.QuerySelector("#keys-mode")!.TextContent, StringComparison.Ordinal);
        Assert.Null(page.QuerySelector("#rotate-form"));
    }

    private static async Task<bool> WorksAsync(OidcTestClient client, string? secret)
    {
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", "invoices"), ("client_secret", secret ?? ""));
        return response.Status == HttpStatusCode.OK;
    }
}

/// <summary>The signing keys page with automatic keys: the keys and their states, rotate now, revoke with the key id typed.</summary>
public sealed class AdminKeysPageTests(AutomaticKeysFactory factory) : IClassFixture<AutomaticKeysFactory>
{
    [Fact]
    public async Task KeysPage_ListsRotatesAndRevokes()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        var signing = Assert.Single(await factory.PublishedKeyIdsAsync());

        var page = await admin.NavigateAsync("/Admin/Keys");
        var rotated = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(await admin.SubmitAsync(page, formId: "rotate-form")));

        Assert.Equal("signing", rotated.QuerySelector($"#keys tr[data-key-id='{signing}'] td:nth-child(3)")!.TextContent);
        var next = rotated.QuerySelector("#keys tr[data-state='next']")!.GetAttribute("data-key-id")!;
        Assert.Equal(2, (await factory.PublishedKeyIdsAsync()).Count);

        page = await admin.NavigateAsync("/Admin/Keys");
        var revoked = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(
            await admin.SubmitAsync(page, new Dictionary<string, string> { ["keyId"] = next, ["confirmKeyId"] = next }, formId: "revoke-form")));

        Assert.StartsWith($"The key {next} is revoked", revoked.QuerySelector("#admin-message")!.TextContent, StringComparison.Ordinal);
        Assert.Equal([signing], await factory.PublishedKeyIdsAsync());
    }
}
