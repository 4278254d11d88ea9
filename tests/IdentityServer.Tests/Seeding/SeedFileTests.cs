using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Seeding;

public sealed class SeedFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("idp-seed-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Load_TestSeed_ParsesEveryEntry()
    {
        var document = SeedLoader.Load(Write(TestSeed.Json));
        Assert.Single(document.Scopes);
        Assert.Equal(6, document.Clients.Count);
        Assert.Equal(2, document.Users.Count);
        Assert.True(document.Clients.Single(c => c.ClientId == TestSeed.ApiClientId).Introspection);
    }

    [Fact]
    public void Load_BrokenJson_NamesFileAndLine()
    {
        var path = Write("{\n  \"Clients\": [\n    { \"ClientId\": \"x\", }\n    oops\n  ]\n}");
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("line 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownProperty_NamesIt()
    {
        var path = Write("""{ "Clients": [ { "ClientId": "x", "ClientSecret": "s", "RedirectUri": "https://a.example/cb" } ] }""");
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains("RedirectUri", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"], "RedirectUris": ["not a uri"] } ] }""", "Clients[0] ('shop'): RedirectUris[0]")]
    [InlineData("""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"], "RedirectUris": ["http://shop.example/cb"] } ] }""", "plain http")]
    [InlineData("""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"], "RedirectUris": ["https://shop.example/cb#x"] } ] }""", "fragment")]
    [InlineData("""{ "Clients": [ { "ClientId": "shop", "ClientSecret": "s", "GrantTypes": ["authorization_code"] } ] }""", "at least one RedirectUri")]
    [InlineData("""{ "Clients": [ { "ClientId": "shop", "GrantTypes": ["client_credentials"] } ] }""", "Clients[0] ('shop'): a confidential client needs a ClientSecret")]
    [InlineData("""{ "Clients": [ { "ClientId": "spa", "ClientType": "public", "ClientSecret": "s" } ] }""", "public client cannot have a ClientSecret")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "GrantTypes": ["password"] } ] }""", "GrantTypes contains 'password'")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "ClientType": "secret" } ] }""", "ClientType must be")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "Scopes": ["payments"] } ] }""", "Scopes contains 'payments'")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s" }, { "ClientId": "w", "ClientSecret": "t" } ] }""", "Clients[1] ('w'): the ClientId is used twice")]
    [InlineData("""{ "Scopes": [ { "Name": "bad scope" } ] }""", "Scopes[0] ('bad scope')")]
    [InlineData("""{ "Users": [ { "Email": "a@example.com", "Password": "x" } ] }""", "Users[0]: UserName is required")]
    [InlineData("""{ "Users": [ { "UserName": "a", "Email": "not-an-email", "Password": "x" } ] }""", "is not an email address")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "RedirectUris": null } ] }""", "Clients[0].RedirectUris: must not be null")]
    [InlineData("""{ "Clients": [ null ] }""", "Clients[0]: must not be null")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "DisplayNames": null } ] }""", "Clients[0].DisplayNames: must not be null")]
    [InlineData("""{ "Scopes": [ { "Name": "orders", "DisplayNames": null } ] }""", "Scopes[0].DisplayNames: must not be null")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "ClientUri": "javascript:alert(1)" } ] }""", "Clients[0] ('w'): ClientUri: 'javascript:alert(1)' must be an absolute https URL")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "ClientUri": "http://shop.example/" } ] }""", "http only on a loopback host")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "DisplayNames": { "German": "Laden" } } ] }""", "DisplayNames has 'German', which is not a culture name")]
    [InlineData("""{ "Scopes": [ { "Name": "orders", "DisplayNames": { "de": " " } } ] }""", "Scopes[0] ('orders'): DisplayNames['de'] is empty")]
    [InlineData("""{ "Users": [ { "UserName": "a", "Password": "x", "Claims": { "name": null } } ] }""", "Users[0].Claims['name']: must not be null")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecret": "s", "ClientSecrets": [ { "Id": "a", "Hash": "h" } ] } ] }""", "Clients[0] ('w'): give either ClientSecret or ClientSecrets, not both")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecrets": [] } ] }""", "ClientSecrets must hold a secret, and at most two that have not expired, not 0")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecrets": [ { "Id": "a", "Hash": "h" }, { "Id": "b", "Hash": "h" }, { "Id": "c", "Hash": "h" } ] } ] }""", "not 3")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecrets": [ { "Id": "a", "Hash": "h" }, { "Id": "a", "Hash": "i" } ] } ] }""", "ClientSecrets has two entries with one Id")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecrets": [ { "Id": "a" } ] } ] }""", "ClientSecrets[0] needs an Id (at most 64 characters) and a Hash")]
    [InlineData("""{ "Clients": [ { "ClientId": "w", "ClientSecrets": [ null ] } ] }""", "Clients[0].ClientSecrets[0]: must not be null")]
    [InlineData("""{ "Clients": [ { "ClientId": "spa", "ClientType": "public", "ClientSecrets": [ { "Id": "a", "Hash": "h" } ] } ] }""", "public client cannot have a ClientSecret")]
    public void Load_InvalidEntry_NamesFileEntryAndProblem(string json, string expected)
    {
        var path = Write(json);
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownAccessTokenClaim_NamesScopeAndClaim()
    {
        var path = Write("""{ "Scopes": [ { "Name": "staff", "AccessTokenClaims": ["role", "idp_stamp"] } ] }""");
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(path));
        Assert.Contains("Scopes[0] ('staff'): AccessTokenClaims contains 'idp_stamp'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'role'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NullAccessTokenClaim_NamesTheEntry()
    {
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(Write("""{ "Scopes": [ { "Name": "staff", "AccessTokenClaims": [null] } ] }""")));
        Assert.Contains("Scopes[0].AccessTokenClaims[0]: must not be null", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AccessTokenClaims_AcceptsProfileEmailAndRoleClaims()
    {
        var document = SeedLoader.Load(Write("""{ "Scopes": [ { "Name": "staff", "AccessTokenClaims": ["name", "preferred_username", "email", "email_verified", "role"] } ] }"""));
        Assert.Equal(5, document.Scopes.Single().AccessTokenClaims.Count);
    }

    [Fact]
    public void Load_MissingFile_NamesTheSetting()
    {
        var error = Assert.Throws<SeedException>(() => SeedLoader.Load(Path.Combine(folder, "missing.json")));
        Assert.Contains("Seed:Path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Startup_MalformedSeed_StopsWithTheMessage()
    {
        using var factory = new IdentityServerFactory();
        File.WriteAllText(factory.SeedPath, """{ "Clients": [ { "ClientId": "w" } ] }""");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var seed = Assert.IsType<SeedException>(error is SeedException ? error : error.InnerException ?? error.GetBaseException());
        Assert.Contains("Clients[0] ('w')", seed.Message, StringComparison.Ordinal);
    }

    private string Write(string json)
    {
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }
}
