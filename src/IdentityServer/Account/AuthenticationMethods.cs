namespace IdentityServer.Account;

/// <summary>How a user proved who they are: <c>amr</c> values from RFC 8176, kept on the session and its cookie.</summary>
internal static class AuthenticationMethods
{
    /// <summary>A password (RFC 8176 2: <c>pwd</c>).</summary>
    public const string Password = "pwd";

    /// <summary>A one-time password from an authenticator app (RFC 8176 2: <c>otp</c>, RFC 6238 TOTP).</summary>
    public const string OneTimePassword = "otp";

    /// <summary>
    /// Proof of possession of a key (RFC 8176 2: <c>hwk</c>): a passkey. Passkeys are created and
    /// used with user verification required, so a passkey sign-in is also <see cref="MultiFactor"/>.
    /// </summary>
    public const string HardwareKey = "hwk";

    /// <summary>More than one factor (RFC 8176 2: <c>mfa</c>): a password and a second factor, or a user-verified passkey.</summary>
    public const string MultiFactor = "mfa";
}
