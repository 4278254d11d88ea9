using IdentityServer.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages;

/// <summary>
/// The language picker of every page's footer posts here: the choice is kept in a cookie
/// (<see cref="LocalizationSetup.Remember"/>) and the person goes back to the page they were on,
/// only ever a page of this server. A language we do not have changes nothing.
/// </summary>
public sealed class LanguageModel : PageModel
{
    public IActionResult OnPost(string? culture, string? returnUrl)
    {
        if (Languages.Match(culture) is { } chosen)
        {
            LocalizationSetup.Remember(Response, chosen);
        }
        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl : "/");
    }
}
