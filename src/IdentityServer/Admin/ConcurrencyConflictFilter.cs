using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityServer.Admin;

/// <summary>
/// Two administrators (or scripts) changing the same client, scope or key at the same moment: the later
/// write loses OpenIddict's or EF Core's concurrency check, and gets <c>409</c> instead of a server error.
/// Nothing of the losing request was written.
/// </summary>
internal sealed class ConcurrencyConflictFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            return await next(context);
        }
        catch (Exception error) when (error is OpenIddictExceptions.ConcurrencyException or DbUpdateConcurrencyException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "It was changed by another request at the same time: read it again, then retry.");
        }
    }
}
