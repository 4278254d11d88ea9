using IdentityServer.Authorization;
using Microsoft.AspNetCore.Http.Features;

namespace IdentityServer.Hosting;

/// <summary>
/// Reads a protocol endpoint's form before OpenIddict does, so that a body over the size limits or
/// with a broken encoding is answered with <c>400 invalid_request</c> instead of an exception.
/// </summary>
internal static class RequestLimitsMiddleware
{
    public static IApplicationBuilder UseFormLimits(this IApplicationBuilder app) => app.Use(static async (context, next) =>
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && request.HasFormContentType
            && request.Path.StartsWithSegments("/connect", StringComparison.OrdinalIgnoreCase))
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
