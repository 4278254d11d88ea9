using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityServer.Authorization;

/// <summary>
/// Device-flow user codes a person reads off a screen and types on a phone (RFC 8628 6.1): eight
/// characters from the twenty consonants of the RFC's example, shown in two groups (<c>WDJB-MJHT</c>).
/// No digits and no vowels: nothing to confuse (0/O, 1/I) and no words. 20^8 codes (34.5 bits) and
/// the per-user limit on code entries (<c>RateLimits:DeviceVerification</c>) make guessing a live code
/// hopeless within its lifetime (RFC 8628 5.1). Typed in lower case, a code still works: OpenIddict
/// ignores the dash and any character outside the set, and <see cref="Descriptor"/> upper-cases the
/// entry before OpenIddict reads it.
/// </summary>
internal static class UserCodes
{
    public static string[] Charset { get; } = [.. "BCDFGHJKLMNPQRSTVWXZ".Select(static c => c.ToString())];

    public const int Length = 8;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ExtractEndUserVerificationRequestContext>()
            .UseSingletonHandler<UpperCaseEntry>()
            // Right after the query or form is read, before OpenIddict validates the code.
            .SetOrder(OpenIddictServerAspNetCoreHandlers.ExtractGetOrPostRequest<ExtractEndUserVerificationRequestContext>.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    private sealed class UpperCaseEntry : IOpenIddictServerHandler<ExtractEndUserVerificationRequestContext>
    {
        public ValueTask HandleAsync(ExtractEndUserVerificationRequestContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Request is { UserCode: { Length: > 0 } code } request)
            {
                request.UserCode = code.ToUpperInvariant();
            }
            return ValueTask.CompletedTask;
        }
    }
}
