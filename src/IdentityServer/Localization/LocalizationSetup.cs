using Microsoft.AspNetCore.Localization;

namespace IdentityServer.Localization;

/// <summary>
/// Pages and mails in the reader's language (<see cref="Languages"/>). Which one, first match wins:
/// the language the person picked on a page (a cookie keeps it), the application's <c>ui_locales</c>,
/// the browser's <c>Accept-Language</c>, English. The pick comes first because it is the person's
/// own, later word: an application that asks for a language its user cannot read must not leave
/// them stuck in it.
/// </summary>
internal static class LocalizationSetup
{
    public const string CookieName = "idp.language";

    public static WebApplicationBuilder AddPageLanguages(this WebApplicationBuilder builder)
    {
        builder.Services.AddLocalization();
        // Validation messages of page models ([Required(ErrorMessage = "...")], [Display(Name = "...")]) are keys too.
        builder.Services.AddRazorPages().AddViewLocalization().AddDataAnnotationsLocalization(static options =>
            options.DataAnnotationLocalizerProvider = static (_, factory) => factory.Create(typeof(SharedResource)));
        builder.Services.Configure<RequestLocalizationOptions>(static options =>
        {
            options.DefaultRequestCulture = new RequestCulture(Languages.Default);
            options.SupportedCultures = Languages.Cultures;
            options.SupportedUICultures = Languages.Cultures;
            // de-AT falls back to de; a language we do not have falls through to the next provider.
            options.FallBackToParentCultures = true;
            options.FallBackToParentUICultures = true;
            // Pages say which language they are in (Content-Language), for caches and assistive tools.
            options.ApplyCurrentCultureToResponseHeaders = true;
            options.RequestCultureProviders =
            [
                new CookieRequestCultureProvider { CookieName = CookieName },
                new UiLocalesCultureProvider(),
                new AcceptLanguageHeaderRequestCultureProvider { MaximumAcceptLanguageHeaderValuesToTry = 5 },
            ];
        });
        return builder;
    }

    /// <summary>Pages only: the admin API and its problem details speak English to every caller, whatever its Accept-Language.</summary>
    public static WebApplication UsePageLanguages(this WebApplication app)
    {
        app.UseWhen(static context => !context.Request.Path.StartsWithSegments(Admin.AdminApi.Prefix, StringComparison.OrdinalIgnoreCase),
            static pages => pages.UseRequestLocalization());
        return app;
    }

    /// <summary>The cookie that remembers a picked language: a year, for this server's pages only.</summary>
    public static void Remember(HttpResponse response, string culture)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Cookies.Append(CookieName, CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)), new CookieOptions
        {
            HttpOnly = true,
            Secure = response.HttpContext.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            MaxAge = TimeSpan.FromDays(365),
            IsEssential = true,
            Path = "/",
        });
    }
}
