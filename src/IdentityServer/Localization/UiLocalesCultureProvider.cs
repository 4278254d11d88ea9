using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Localization;

/// <summary>
/// The language an application asked for with OpenID Connect's <c>ui_locales</c> (Core 3.1.2.1: a
/// space-separated list of BCP 47 tags in order of preference): the first one we speak. It reads the
/// authorization request itself and, on the pages it leads to (sign-in, second factor, consent), the
/// request carried in their <c>ReturnUrl</c>.
/// </summary>
internal sealed class UiLocalesCultureProvider : RequestCultureProvider
{
    private const string ReturnUrl = "ReturnUrl";

    public override Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var query = httpContext.Request.Query;
        var locales = query[Parameters.UiLocales];
        if (StringValues.IsNullOrEmpty(locales) && query[ReturnUrl] is [{ } returnUrl] && returnUrl.StartsWith('/'))
        {
            var mark = returnUrl.IndexOf('?', StringComparison.Ordinal);
            if (mark >= 0 && QueryHelpers.ParseQuery(returnUrl[mark..]).TryGetValue(Parameters.UiLocales, out var inner))
            {
                locales = inner;
            }
        }
        return Task.FromResult(locales is [{ } list] && First(list) is { } culture ? new ProviderCultureResult(culture) : null);
    }

    private static string? First(string list)
    {
        foreach (var tag in list.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Languages.Match(tag) is { } culture)
            {
                return culture;
            }
        }
        return null;
    }
}
