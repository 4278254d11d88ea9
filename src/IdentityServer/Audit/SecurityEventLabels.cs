using System.Collections.Frozen;

namespace IdentityServer.Audit;

/// <summary>
/// What each kind of security event is called where people read it (the admin pages, the filter of
/// the audit trail); the raw type stays the value of filters, the API and the log.
/// </summary>
public static class SecurityEventLabels
{
    private static readonly FrozenDictionary<string, string> Labels = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [SecurityEventTypes.SignInSucceeded] = "Signed in",
        [SecurityEventTypes.SignInFailed] = "Failed sign-in",
        [SecurityEventTypes.LockedOut] = "Locked out after failed sign-ins",
        [SecurityEventTypes.SessionStarted] = "Session started",
        [SecurityEventTypes.SessionEnded] = "Session ended",
        [SecurityEventTypes.ConsentGranted] = "App allowed",
        [SecurityEventTypes.AccessRemoved] = "App's access removed",
        [SecurityEventTypes.TokenReuseDetected] = "Stolen or replayed token detected",
        [SecurityEventTypes.RefreshTokenReplayed] = "Used refresh token presented again",
        [SecurityEventTypes.TokenRevoked] = "Token revoked by an app",
        [SecurityEventTypes.PasswordChanged] = "Password changed",
        [SecurityEventTypes.UserLocked] = "Locked by an administrator",
        [SecurityEventTypes.UserUnlocked] = "Unlocked by an administrator",
        [SecurityEventTypes.UserDeleted] = "Account deleted",
        [SecurityEventTypes.BackchannelLogoutFailed] = "Back-channel logout failed",
        [SecurityEventTypes.PasswordResetRequested] = "Password reset asked for",
        [SecurityEventTypes.PasswordResetCompleted] = "Password reset",
        [SecurityEventTypes.EmailVerificationRequested] = "Verification link sent",
        [SecurityEventTypes.EmailVerified] = "E-mail address verified",
        [SecurityEventTypes.EmailChangeRequested] = "Change of e-mail address asked for",
        [SecurityEventTypes.EmailChanged] = "E-mail address changed",
        [SecurityEventTypes.EmailSendFailed] = "Mail not sent",
        [SecurityEventTypes.AuthenticatorEnabled] = "Authenticator app turned on",
        [SecurityEventTypes.AuthenticatorDisabled] = "Authenticator app turned off",
        [SecurityEventTypes.RecoveryCodesGenerated] = "New recovery codes",
        [SecurityEventTypes.RecoveryCodeUsed] = "Recovery code used",
        [SecurityEventTypes.SecondFactorFailed] = "Wrong second-factor code",
        [SecurityEventTypes.SecondFactorsReset] = "Second factors reset by an administrator",
        [SecurityEventTypes.UserCreated] = "Account created by an administrator",
        [SecurityEventTypes.InvitationSent] = "Invitation sent",
        [SecurityEventTypes.InvitationAccepted] = "Invitation accepted",
        [SecurityEventTypes.UserRolesChanged] = "Roles changed",
        [SecurityEventTypes.UserClaimsChanged] = "Profile claims changed",
        [SecurityEventTypes.PasswordResetSentByAdmin] = "Password reset sent by an administrator",
        [SecurityEventTypes.UserRegistered] = "Registered",
        [SecurityEventTypes.ClientCreated] = "Client registered by an administrator",
        [SecurityEventTypes.ClientUpdated] = "Client changed by an administrator",
        [SecurityEventTypes.ClientDeleted] = "Client deleted by an administrator",
        [SecurityEventTypes.ClientDisabled] = "Client disabled by an administrator",
        [SecurityEventTypes.ClientEnabled] = "Client enabled by an administrator",
        [SecurityEventTypes.ClientSecretAdded] = "Client secret added",
        [SecurityEventTypes.ClientSecretRemoved] = "Client secret removed",
        [SecurityEventTypes.ScopeCreated] = "Scope defined by an administrator",
        [SecurityEventTypes.ScopeUpdated] = "Scope changed by an administrator",
        [SecurityEventTypes.ScopeDeleted] = "Scope deleted by an administrator",
        [SecurityEventTypes.ConfigurationExported] = "Configuration exported",
        [SecurityEventTypes.SigningKeyCreated] = "Signing key created",
        [SecurityEventTypes.SigningKeyRevoked] = "Signing key revoked",
        [SecurityEventTypes.RegistrationAddressInUse] = "Registration with an address in use",
        [SecurityEventTypes.PasskeyAdded] = "Passkey added",
        [SecurityEventTypes.PasskeyRemoved] = "Passkey removed",
        [SecurityEventTypes.PasskeyRenamed] = "Passkey renamed",
        [SecurityEventTypes.StepUpCompleted] = "Stronger sign-in completed",
        [SecurityEventTypes.MfaEnrolmentRequired] = "Sent to set up a second factor",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The label of <paramref name="type"/> in the reader's language; an unknown type (from a newer node, say) as written.</summary>
    public static string For(string type) => Labels.TryGetValue(type, out var label) ? Localization.Texts.Get(label) : type;

    /// <summary>Whether <paramref name="type"/> has a label of its own.</summary>
    public static bool Has(string type) => Labels.ContainsKey(type);
}
