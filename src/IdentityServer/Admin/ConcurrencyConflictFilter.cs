using IdentityServer.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityServer.Admin;

/// <summary>
/// Two administrators (or scripts) changing the same client, scope or key at the same moment: the later
/// write loses OpenIddict's or EF Core's concurrency check, and gets <c>409</c> instead of a server error.
/// A change that lost wrote nothing; a delete that lost may already have revoked the client's grants (see below).
/// </summary>
internal sealed class ConcurrencyConflictFilter : IEndpointFilter
{
    /// <summary>A write that lost OpenIddict's or EF Core's concurrency check.</summary>
    public static bool IsConflict(Exception error) => error is OpenIddictExceptions.ConcurrencyException or DbUpdateConcurrencyException;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            return await next(context);
        }
        catch (Exception error) when (IsConflict(error))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "It was changed by another request at the same time: read it again, then retry.");
        }
    }
}

/// <summary>
/// The same race on the admin pages: the losing form is not a server error but the page again, as it is
/// stored now, with a notice to do it again if still needed. A save that lost wrote nothing; a delete that
/// lost may already have revoked the client's grants and tokens (that comes first), and asking again finishes it.
/// </summary>
internal sealed class ConcurrencyConflictPageFilter : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var executed = await next();
        if (executed.Exception is { } error && !executed.ExceptionHandled && ConcurrencyConflictFilter.IsConflict(error)
            && executed.HandlerInstance is PageModel page)
        {
            executed.ExceptionHandled = true;
            page.TempData["AdminMessage"] = Texts.Get("Someone else changed this at the same moment, so what you asked was not done: here is what is stored now; do it again if it is still needed.");
            // The same page and route values (its id), without the form's handler.
            executed.Result = new RedirectToPageResult(pageName: null);
        }
    }
}
