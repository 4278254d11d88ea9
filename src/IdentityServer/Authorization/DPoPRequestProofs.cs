using Microsoft.Extensions.Options;

namespace IdentityServer.Authorization;

/// <summary>A request's DPoP proof once every check has passed, or the RFC 9449 error and why it was refused.</summary>
internal readonly record struct DPoPCheck(DPoPProof? Proof, string? Error, string? Problem)
{
    public static DPoPCheck Refused(string error, string problem) => new(null, error, problem);
}

/// <summary>
/// The one DPoP proof of a request, checked the same way by every endpoint that takes one (the server's and the
/// admin API's): the <c>DPoP</c> header given exactly once; the proof's own checks (<see cref="DPoPProofs.ReadAsync"/>)
/// against the URL the client called and, with an access token, its <c>ath</c>; the server nonce where the
/// endpoint asks for one; and its <c>jti</c> used once on every node (<see cref="OneTimeUse"/>).
/// </summary>
internal sealed class DPoPRequestProofs(OneTimeUse once, DPoPNonces nonces, IOptions<DPoPOptions> options, TimeProvider clock)
{
    public async Task<DPoPCheck> CheckAsync(HttpRequest request, Uri url, string? accessToken, bool askNonce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = request.Headers[DPoPProofs.Header];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return DPoPCheck.Refused(DPoPProofs.InvalidProof, "A request carries exactly one DPoP proof.");
        }
        var settings = options.Value;
        var (proof, problem) = await DPoPProofs.ReadAsync(values[0]!, request.Method, url, clock.GetUtcNow(), settings.ProofLifetime, accessToken);
        if (proof is null)
        {
            return DPoPCheck.Refused(DPoPProofs.InvalidProof, problem!);
        }
        if (askNonce && settings.RequireNonce && !nonces.IsCurrent(proof.Nonce))
        {
            return DPoPCheck.Refused(DPoPProofs.UseNonce, "The DPoP proof must carry the nonce of the DPoP-Nonce header.");
        }
        if (!await once.TryUseAsync(OneTimeUse.Reference("dpop", proof.Thumbprint, proof.JwtId), DPoP.UsedProofType,
                DPoP.RememberUntil(proof, settings.ProofLifetime), cancellationToken))
        {
            return DPoPCheck.Refused(DPoPProofs.InvalidProof, "The DPoP proof has been used already.");
        }
        return new(proof, null, null);
    }
}
