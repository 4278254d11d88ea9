using IdentityServer.Email;
using Microsoft.Extensions.Options;

namespace IdentityServer.Branding;

/// <summary>
/// The product's name, logo, accent colour and help link (section <c>Branding</c>), for the pages
/// and the mails. The accent colour reaches the pages through <c>/branding.css</c>, a stylesheet of
/// this server, so the Content Security Policy keeps refusing inline styles.
/// </summary>
internal static class BrandingSetup
{
    public const string StylesheetPath = "/branding.css";

    public static WebApplicationBuilder AddBranding(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<BrandingOptions>()
            .Bind(builder.Configuration.GetSection(BrandingOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BrandingOptions>, BrandingOptionsValidation>();
        // Mail is signed with the product's name unless Email:FromName names the sender otherwise.
        builder.Services.AddOptions<EmailOptions>().PostConfigure<IOptions<BrandingOptions>>(static (email, branding) =>
            email.FromName ??= branding.Value.ProductName);
        return builder;
    }

    public static WebApplication MapBranding(this WebApplication app)
    {
        app.MapGet(StylesheetPath, static (IOptions<BrandingOptions> branding, HttpContext context) =>
        {
            // Public and the same for everyone: a browser may keep it for an hour.
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text($":root {{ --accent: {branding.Value.AccentColor.ToLowerInvariant()}; }}\n", "text/css; charset=utf-8");
        }).ExcludeFromDescription();
        return app;
    }
}
