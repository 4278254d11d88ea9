using IdentityServer.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace IdentityServer.Hosting;

/// <summary>
/// Reads a protocol endpoint's form before OpenIddict does, so that a body over the size limits or
/// with a broken encoding is answered with <c>400 invalid_request</c> instead of an exception. The
/// admin API is included: OpenIddict's validation reads an <c>access_token</c> from a form body too.
/// </summary>
internal static class RequestLimitsMiddleware
{
    private static readonly string[] FormReadingPaths = ["/connect", "/api"];

    public static IApplicationBuilder UseFormLimits(this IApplicationBuilder app) => app.Use(static async (context, next) =>
    {
        var request = context.Request;
        if (!FormReadingPaths.Any(path => request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase)))
        {
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

        if (request.HasFormContentType)
        {
            try
            {
                await request.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException or IOException)
            {
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                await ProtocolErrors.WriteJsonAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The request body is too large or malformed.");
                return;
            }
        }
        await next(context);
    });
}
