using IdentityServer.Localization;
using System.Globalization;
using IdentityServer.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages;

/// <summary>The friendly error page for unexpected failures and unknown pages. It never shows exception details.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public ProtocolError Problem { get; private set; } = new(null, null);

    public void OnGet(int? code) => Problem = Describe(code);

    public void OnPost(int? code) => Problem = Describe(code);

    private ProtocolError Describe(int? code)
    {
        if (HttpContext.Features.Get<IExceptionHandlerPathFeature>() is not null)
        {
            return new("server_error", Texts.Get("An unexpected error occurred."), ErrorKind.Server);
        }
        return code switch
        {
            404 => new("not_found", null, ErrorKind.NotFound),
            403 => new("access_denied", null, ErrorKind.Forbidden),
            // A rate limit refused the request and set Retry-After.
            429 => new("temporarily_unavailable", int.TryParse(Response.Headers.RetryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? Texts.Get("Too many requests. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds))
                : Texts.Get("Too many requests. Wait a minute, then try again."), ErrorKind.TooManyRequests),
            405 => new("invalid_request", Texts.Get("This method is not allowed here."), ErrorKind.Request),
            _ => new("invalid_request", null, ErrorKind.Request),
        };
    }
}
