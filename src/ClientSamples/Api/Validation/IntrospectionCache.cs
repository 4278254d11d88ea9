using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.Abstractions;
using OpenIddict.Validation;
using static OpenIddict.Validation.OpenIddictValidationEvents;

namespace ClientSamples.Api.Validation;

/// <summary>
/// Remembers an <em>active</em> introspection answer for a short, configured time so that a client sending
/// the same token many times costs one round trip per period. The price is staleness: a token revoked at
/// the identity provider (session ended, user signed out) is still accepted until its entry expires.
/// Inactive answers are never cached, so a bad token always costs a round trip and is never "stuck" valid.
/// </summary>
internal sealed class IntrospectionCache(TimeSpan duration, TimeProvider time) : IDisposable
{
    // Bounded so that a flood of distinct tokens cannot grow memory without limit.
    private readonly MemoryCache entries = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public bool TryGet(string token, out ClaimsPrincipal principal) =>
        entries.TryGetValue(Key(token), out principal!);

    public void Add(string token, ClaimsPrincipal principal)
    {
        var until = time.GetUtcNow() + duration;
        // Never beyond the token's own expiry.
        if (principal.GetExpirationDate() is { } expires && expires < until)
        {
            until = expires;
        }
        entries.Set(Key(token), principal, new MemoryCacheEntryOptions { AbsoluteExpiration = until, Size = 1 });
    }

    public void Dispose() => entries.Dispose();

    // Keyed by a hash: the cache never holds usable bearer tokens.
    private static string Key(string token) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Once OpenIddict has decided to introspect: a fresh cached answer replaces the request.</summary>
    internal sealed class Lookup(IntrospectionCache cache) : IOpenIddictValidationHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
            OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .UseSingletonHandler<Lookup>()
                .SetOrder(OpenIddictValidationHandlers.EvaluateIntrospectionRequest.Descriptor.Order + 500)
                .SetType(OpenIddictValidationHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.SendIntrospectionRequest && context.AccessToken is { Length: > 0 } token &&
                cache.TryGet(token, out var principal))
            {
                context.AccessTokenPrincipal = principal;
                context.SendIntrospectionRequest = false;
                context.Transaction.Properties[nameof(IntrospectionCache)] = true;
            }
            return default;
        }
    }

    /// <summary>After the introspected token passed OpenIddict's checks (active, usage, audience): remember it.</summary>
    internal sealed class Store(IntrospectionCache cache) : IOpenIddictValidationHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
            OpenIddictValidationHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .UseSingletonHandler<Store>()
                .SetOrder(OpenIddictValidationHandlers.ValidateIntrospectedTokenAudiences.Descriptor.Order + 500)
                .SetType(OpenIddictValidationHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.SendIntrospectionRequest && !context.IsRejected &&
                context.AccessToken is { Length: > 0 } token && context.AccessTokenPrincipal is { } principal)
            {
                cache.Add(token, principal);
            }
            return default;
        }
    }
}
