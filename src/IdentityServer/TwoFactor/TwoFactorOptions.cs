using System.ComponentModel.DataAnnotations;

namespace IdentityServer.TwoFactor;

/// <summary>Bound from the <c>TwoFactor</c> configuration section.</summary>
public sealed class TwoFactorOptions
{
    public const string Section = "TwoFactor";

    /// <summary>
    /// How recent the sign-in must be (its <c>auth_time</c>) to set up or turn off the authenticator
    /// on the Security page; an older one is sent through the sign-in page first.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan FreshSignIn { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after a right password the code may be entered (the two-factor cookie's lifetime).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan SecondStepTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The name authenticator apps show next to the account (the <c>issuer</c> of the otpauth URI).</summary>
    [Required, StringLength(64, MinimumLength = 1)]
    [RegularExpression(@"^[^:]+$", ErrorMessage = "TwoFactor:AuthenticatorIssuer may not contain a colon (it separates issuer and account in authenticator apps).")]
    public string AuthenticatorIssuer { get; set; } = "Identity Provider";
}
