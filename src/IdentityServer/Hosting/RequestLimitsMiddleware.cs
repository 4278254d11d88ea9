using IdentityServer.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace IdentityServer.Hosting;

/// <summary>
/// Reads a protocol endpoint's form before OpenIddict does, so that a body over the size limits or
/// with a broken encoding is answered with <c>400 invalid_request</c> instead of an exception. The
/// admin API is included: OpenIddict's validation reads an <c>access_token</c> from a form body too.
/// A NUL character in a parameter is refused everywhere (pages get the 400 error page): no value
/// needs one, and PostgreSQL cannot store or even compare a string that holds one.
/// </summary>
internal static class RequestLimitsMiddleware
{
    private static readonly string[] FormReadingPaths = ["/connect", "/api"];

    public static IApplicationBuilder UseFormLimits(this IApplicationBuilder app) => app.Use(static async (context, next) =>
    {
        var request = context.Request;
        if (!request.Path.StartsWithAny(FormReadingPaths))
        {
            if (request.QueryString.HasValue && HasNul(request.Query)
                || (request.HasFormContentType && await ReadFormOrNullAsync(request, context.RequestAborted) is { } pageForm && HasNul(pageForm)))
            {
                // The status-code page (re-executed) tells the browser what went wrong.
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            await next(context);
            return;
        }

        // OpenIddict takes a body for a form when its Content-Type merely starts with the form type;
        // the form reader then throws for a value it cannot parse (two Content-Type headers, stray
        // separators). Such a request is malformed: say so.
        var contentType = request.Headers.ContentType;
        if (contentType.Count > 1 || (contentType.Count == 1 && !MediaTypeHeaderValue.TryParse(contentType[0], out _)))
        {
            await ProtocolErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The Content-Type header is malformed.");
            return;
        }

        IFormCollection? form = null;
        if (request.HasFormContentType)
        {
            form = await ReadFormOrNullAsync(request, context.RequestAborted);
            if (form is null)
            {
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                await ProtocolErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The request body is too large or malformed.");
                return;
            }
        }
        if ((request.QueryString.HasValue && HasNul(request.Query)) || (form is not null && HasNul(form)))
        {
            await ProtocolErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "A parameter contains a NUL character.");
            return;
        }
        // No parameter name holds a control character: such a "name" is a body of another kind sent as a form
        // (a multipart body, say), whose values, secrets included, OpenIddict would log as one unknown parameter.
        if ((request.QueryString.HasValue && HasControlInName(request.Query)) || (form is not null && HasControlInName(form)))
        {
            await ProtocolErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "A parameter name contains a control character: the body is not a form.");
            return;
        }
        await next(context);
    });

    /// <summary>The form, or null when it is over the limits or cannot be parsed.</summary>
    private static async Task<IFormCollection?> ReadFormOrNullAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException or IOException)
        {
            return null;
        }
    }

    private static bool HasControlInName(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> parameters)
    {
        foreach (var (name, _) in parameters)
        {
            if (name.Any(char.IsControl))
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasNul(IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> parameters)
    {
        foreach (var (name, values) in parameters)
        {
            if (name.Contains('\0', StringComparison.Ordinal))
            {
                return true;
            }
            foreach (var value in values)
            {
                if (value is not null && value.Contains('\0', StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
