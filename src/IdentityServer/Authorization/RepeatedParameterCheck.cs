using System.Collections.Frozen;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// RFC 6749 3.1 and 3.2: a request parameter must not be included more than once. OpenIddict reads a
/// repeated parameter as a list and then takes it as absent (a repeated state vanished from the
/// response) or fails in a way that says nothing of the cause. This refuses it with
/// <c>invalid_request</c> at every endpoint that takes a request, right after the parameters are
/// read from the query or form. <c>resource</c> (RFC 8707) and OpenIddict's <c>audience</c> are
/// lists by design and may repeat. At the authorization endpoint the error goes to the client when
/// client_id and redirect_uri are each given once and valid (see <see cref="AuthorizationErrorRedirect"/>);
/// a repeated state is then left out of the response, as no single value can be returned.
/// </summary>
internal static class RepeatedParameterCheck
{
    private static readonly FrozenSet<string> MayRepeat = FrozenSet.ToFrozenSet([Parameters.Resource, Parameters.Audience], StringComparer.Ordinal);

    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        Describe<ExtractAuthorizationRequestContext>(),
        Describe<ExtractPushedAuthorizationRequestContext>(),
        Describe<ExtractTokenRequestContext>(),
        Describe<ExtractIntrospectionRequestContext>(),
        Describe<ExtractRevocationRequestContext>(),
        Describe<ExtractDeviceAuthorizationRequestContext>(),
        Describe<ExtractEndSessionRequestContext>(),
        Describe<ExtractUserInfoRequestContext>(),
    ];

    /// <summary>The first parameter given more than once that may not be, if any.</summary>
    public static string? FirstRepeated(OpenIddictRequest request) =>
        request.GetParameters().FirstOrDefault(static p => p.Value.Count > 1 && !MayRepeat.Contains(p.Key)).Key;

    private static OpenIddictServerHandlerDescriptor Describe<TContext>() where TContext : BaseValidatingContext =>
        OpenIddictServerHandlerDescriptor.CreateBuilder<TContext>()
            .UseSingletonHandler<RepeatedParameterCheck<TContext>>()
            // After the query or form is read (ExtractGetOrPostRequest, ExtractPostRequest), before
            // client credentials, tokens or any other parameter are read from it.
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractPostRequest<TContext>.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();
}

/// <summary>The check of <see cref="RepeatedParameterCheck"/> for one endpoint's extraction event.</summary>
internal sealed class RepeatedParameterCheck<TContext> : IOpenIddictServerHandler<TContext> where TContext : BaseValidatingContext
{
    public ValueTask HandleAsync(TContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Transaction.Request is { } request && RepeatedParameterCheck.FirstRepeated(request) is { } name)
        {
            context.Reject(Errors.InvalidRequest, $"The '{name}' parameter must not be included more than once.");
        }
        return ValueTask.CompletedTask;
    }
}
