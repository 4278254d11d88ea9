using ClientSamples.Shared;
using OpenIddict.Client;
using OpenIddict.Client.SystemNetHttp;
using static OpenIddict.Client.OpenIddictClientEvents;

namespace ClientSamples.Worker;

/// <summary>
/// DPoP for the worker's token requests, added to OpenIddict's client through its events (OpenIddict 7's
/// client does not send proofs by itself): each token request carries a proof by the worker's key, with
/// the identity provider's latest nonce, and each answer's <c>DPoP-Nonce</c> is kept for the next one.
/// </summary>
internal static class DPoPTokenRequests
{
    public static OpenIddictClientBuilder UseDPoP(this OpenIddictClientBuilder options)
    {
        options.Services.AddSingleton<DPoPKey>();
        return options
            .AddEventHandler<PrepareTokenRequestContext>(builder => builder
                .UseSingletonHandler<AttachProof>()
                .SetOrder(OpenIddictClientSystemNetHttpHandlers.AttachHttpParameters<PrepareTokenRequestContext>.Descriptor.Order - 400))
            .AddEventHandler<ExtractTokenResponseContext>(builder => builder
                .UseSingletonHandler<KeepNonce>()
                .SetOrder(OpenIddictClientSystemNetHttpHandlers.ExtractJsonHttpResponse<ExtractTokenResponseContext>.Descriptor.Order - 1));
    }

    internal sealed class AttachProof(DPoPKey key) : IOpenIddictClientHandler<PrepareTokenRequestContext>
    {
        public ValueTask HandleAsync(PrepareTokenRequestContext context)
        {
            if (context.Transaction.GetHttpRequestMessage() is { } request && context.RemoteUri is { } url)
            {
                request.Headers.Add("DPoP", key.Proof(HttpMethod.Post, url, nonce: key.Nonce));
            }
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class KeepNonce(DPoPKey key) : IOpenIddictClientHandler<ExtractTokenResponseContext>
    {
        public ValueTask HandleAsync(ExtractTokenResponseContext context)
        {
            if (context.Transaction.GetHttpResponseMessage() is { } response && response.Headers.TryGetValues("DPoP-Nonce", out var values))
            {
                key.Nonce = values.FirstOrDefault();
            }
            return ValueTask.CompletedTask;
        }
    }
}
