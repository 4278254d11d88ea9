using IdentityServer.Seeding;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Docs;

/// <summary>The seed example of the modern OAuth profile in docs/using-it.md loads and asks for what it says.</summary>
public sealed class ProfileExampleTests
{
    [Fact]
    public void ProfileClientExample_LoadsAndRequiresParDPoPAndKeysByUrl()
    {
        var json = Markdown.Block(File.ReadAllText(Repository.File("docs/using-it.md")), "json", "\"bank-web\"");
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "seed.json");
        File.WriteAllText(path, json);

        var client = Assert.Single(SeedLoader.Load(path).Clients);

        Assert.True(client.RequirePushedAuthorization);
        Assert.True(client.RequireDPoP);
        Assert.True(client.RequirePkce);
        Assert.Null(client.ClientSecret);
        Assert.Equal("https://bank.example/.well-known/jwks.json", client.JsonWebKeySetUri);
    }
}
