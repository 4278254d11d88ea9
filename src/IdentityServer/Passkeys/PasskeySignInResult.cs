using IdentityServer.Data;

namespace IdentityServer.Passkeys;

/// <summary>The outcome of <see cref="PasskeySignIn.CheckAsync"/>; <paramref name="User"/> is set when it succeeded.</summary>
internal sealed record PasskeySignInResult(PasskeySignInOutcome Outcome, ApplicationUser? User = null);
