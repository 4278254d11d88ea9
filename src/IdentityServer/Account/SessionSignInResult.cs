namespace IdentityServer.Account;

/// <summary>What <see cref="SessionSignIn.SignInAsync"/> came to.</summary>
internal enum SessionSignInResult
{
    /// <summary>The session cookie was issued, for a new session or the one this browser had.</summary>
    SignedIn,

    /// <summary>Another account was signed in here: it was signed out, and the user must sign in again.</summary>
    OtherAccountSignedOut,

    /// <summary>Refused: the user has as many sessions as <c>Sessions:MaxPerUser</c> allows and <c>WhenLimitReached</c> is <c>Deny</c>.</summary>
    SessionLimitReached,
}
