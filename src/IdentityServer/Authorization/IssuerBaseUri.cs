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
            // As OpenIddict does for the request's own URI: none when it cannot be expressed.
            context.RequestUri = Uri.TryCreate(_base, request.Path.ToUriComponent().TrimStart('/') + request.QueryString.ToUriComponent(), out var uri)
                ? uri
                : null;
        }
        return ValueTask.CompletedTask;
    }
}
