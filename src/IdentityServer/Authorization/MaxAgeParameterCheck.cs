using System.Globalization;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// OpenID Connect Core 3.1.2.1: max_age is a number of seconds. OpenIddict reads a value that is not
/// a number as no max_age at all and a negative one as a number, so "abc" or "1.5" silently lost the
/// client's demand for a recent sign-in. Anything but a non-negative integer is <c>invalid_request</c>
/// (returned to the client, see <see cref="AuthorizationErrorRedirect"/>; a pushed request gets it from
/// the pushed-authorization endpoint); an empty value counts as absent (RFC 6749 3.1).
/// </summary>
internal sealed class MaxAgeParameterCheck
    : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>, IOpenIddictServerHandler<ValidatePushedAuthorizationRequestContext>
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors { get; } =
    [
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
            .UseSingletonHandler<MaxAgeParameterCheck>()
            // With OpenIddict's own checks of the other OpenID Connect parameters (prompt, nonce).
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidatePromptParameter.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
        OpenIddictServerHandlerDescriptor.CreateBuilder<ValidatePushedAuthorizationRequestContext>()
            .UseSingletonHandler<MaxAgeParameterCheck>()
            .SetOrder(OpenIddictServerHandlers.Authentication.ValidatePushedPromptParameter.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build(),
    ];

    public ValueTask HandleAsync(ValidateAuthorizationRequestContext context) => Check(context);

    public ValueTask HandleAsync(ValidatePushedAuthorizationRequestContext context) => Check(context);

    private static ValueTask Check(BaseValidatingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var value = (string?)context.Transaction.Request!.GetParameter(Parameters.MaxAge);
        if (!string.IsNullOrEmpty(value)
            && !(value.All(char.IsAsciiDigit) && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            context.Reject(Errors.InvalidRequest, "The 'max_age' parameter must be a non-negative integer number of seconds.");
        }
        return ValueTask.CompletedTask;
    }
}
