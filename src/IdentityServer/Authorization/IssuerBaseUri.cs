using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// With a configured issuer, OpenIddict still takes the base of the URLs it publishes (discovery's
/// endpoints, the device flow's <c>verification_uri</c>) from the request's Host header. This makes the
/// configured issuer the base URI of every request, right after OpenIddict has read it from the request,
/// so nothing the server tells a client follows a Host header. Endpoints are still matched by path.
/// </summary>
internal sealed class IssuerBaseUri(Uri issuer) : IOpenIddictServerHandler<ProcessRequestContext>
{
    private readonly Uri _base = issuer.AbsoluteUri.EndsWith('/') ? issuer : new Uri(issuer.AbsoluteUri + "/");

    public static OpenIddictServerHandlerDescriptor Descriptor(Uri issuer) =>
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>()
            .UseSingletonHandler(new IssuerBaseUri(issuer))
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ResolveRequestUri.Descriptor.Order + 1)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.GetHttpRequest() is { } request)
        {
            context.BaseUri = _base;
            context.RequestUri = Under(_base, request);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The URL a request was sent to, as a client names it (a DPoP proof's <c>htu</c>): under the configured
    /// issuer when there is one, as the request itself says otherwise (Development); none, as OpenIddict does,
    /// when it cannot be expressed. The OpenIddict endpoints get it through the handler above; the admin API from here.
    /// </summary>
    public static Uri? RequestUri(HttpRequest request, Uri? issuer)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (issuer is null)
        {
            return Uri.TryCreate(Microsoft.AspNetCore.Http.Extensions.UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, request.QueryString),
                UriKind.Absolute, out var own) ? own : null;
        }
        return Under(issuer.AbsoluteUri.EndsWith('/') ? issuer : new Uri(issuer.AbsoluteUri + "/"), request);
    }

    private static Uri? Under(Uri root, HttpRequest request) =>
        Uri.TryCreate(root, request.Path.ToUriComponent().TrimStart('/') + request.QueryString.ToUriComponent(), out var uri) ? uri : null;
}
