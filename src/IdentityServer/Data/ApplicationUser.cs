using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Data;

/// <summary>An account that can sign in. Profile claims live in the Identity user-claims table.</summary>
public sealed class ApplicationUser : IdentityUser
{
    /// <summary>
    /// The 30-second time step of the last authenticator code accepted for this account (RFC 6238:
    /// Unix time / 30). A code is accepted only for a newer step, so a code seen once cannot be
    /// used again. Written only by a conditional update (see <c>TwoFactor/SecondFactorCheck</c>),
    /// never by Identity's saves of the whole account, which could write back an older value.
    /// </summary>
    public long? AuthenticatorTimeStep { get; set; }
}
