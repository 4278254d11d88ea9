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
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.WriteAsJsonAsync(new Dictionary<string, string>
                {
                    ["error"] = "invalid_request",
                    ["error_description"] = "The request body is too large or malformed.",
                }, context.RequestAborted);
                return;
            }
        }
        await next(context);
    });
}
