using System.Net;
using IdentityServer.Email;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.Hosting;

/// <summary>
/// Branding:* names the product in the header, every title, the footer and the mails, shows a logo,
/// and colours the primary buttons; a colour white text cannot be read on is refused at start-up.
/// </summary>
public sealed class BrandingTests
{
    [Fact]
    public async Task Branding_NameLogoAccentAndHelp_ReachThePagesTheStylesheetTheCspAndTheMail()
    {
        using var factory = new IdentityServerFactory();
        factory.Settings["Branding:ProductName"] = "Acme ID";
        factory.Settings["Branding:LogoUrl"] = "https://cdn.acme.example/logo.svg";
        factory.Settings["Branding:AccentColor"] = "#0B5CAB";
        factory.Settings["Branding:SupportUrl"] = "https://help.acme.example/";
        using var client = factory.CreateOidcClient();

        using var response = await client.Http.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        var page = await OidcTestClient.ParseAsync(response);

        Assert.EndsWith(" · Acme ID", page.Title, StringComparison.Ordinal);
        Assert.Equal("Acme ID", page.QuerySelector("header #product-name")!.TextContent);
        Assert.Equal("https://cdn.acme.example/logo.svg", page.QuerySelector("header img.logo")!.GetAttribute("src"));
        Assert.Equal("https://help.acme.example/", page.QuerySelector("footer #support-link")!.GetAttribute("href"));
        Assert.Contains("img-src 'self' data: https://cdn.acme.example;", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.NotNull(page.QuerySelector("link[rel=stylesheet][href='/branding.css']"));
        using var stylesheet = await client.Http.GetAsync(new Uri("/branding.css", UriKind.Relative));
        Assert.Equal("text/css", stylesheet.Content.Headers.ContentType!.MediaType);
        Assert.Contains("--accent: #0b5cab;", await stylesheet.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Acme ID", factory.Services.GetRequiredService<IOptions<EmailOptions>>().Value.FromName);
    }

    [Fact]
    public async Task Branding_Unset_IsTheDefaultNameWithoutLogoOrHelpLink()
    {
        using var factory = new IdentityServerFactory();
        using var client = factory.CreateOidcClient();

        using var response = await client.Http.GetAsync(new Uri("/Account/Login", UriKind.Relative));
        var page = await OidcTestClient.ParseAsync(response);

        Assert.Equal("Identity Provider", page.QuerySelector("header #product-name")!.TextContent);
        Assert.Null(page.QuerySelector("header img.logo"));
        Assert.Null(page.QuerySelector("#support-link"));
        Assert.Contains("img-src 'self' data:;", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Branding:AccentColor", "#ffcc00", "too light: white text on it has a contrast of 1.5:1")]
    [InlineData("Branding:AccentColor", "blue", "is not a colour written #rrggbb")]
    [InlineData("Branding:LogoUrl", "http://cdn.example/logo.png", "Branding:LogoUrl must be an absolute https URL")]
    [InlineData("Branding:SupportUrl", "javascript:alert(1)", "Branding:SupportUrl must be an absolute https URL or a mailto: address")]
    public void Branding_Unusable_StopsStartUpNamingTheSetting(string key, string value, string expected)
    {
        using var factory = new IdentityServerFactory();
        factory.Settings[key] = value;

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }
}
