namespace IdentityServer.Audit;

/// <summary>The kinds of security events recorded in the audit trail.</summary>
public static class SecurityEventTypes
{
    public const string SignInSucceeded = "sign_in_succeeded";
    public const string SignInFailed = "sign_in_failed";
    public const string LockedOut = "locked_out";
    public const string SessionStarted = "session_started";
    public const string SessionEnded = "session_ended";
    public const string ConsentGranted = "consent_granted";

    /// <summary>A user took back an app's access on the Apps page: its remembered consent, grants and tokens were revoked; the client id says which app.</summary>
    public const string AccessRemoved = "access_removed";
    public const string TokenReuseDetected = "token_reuse_detected";
    public const string RefreshTokenReplayed = "refresh_token_replayed";
    public const string TokenRevoked = "token_revoked";
    public const string PasswordChanged = "password_changed";
    public const string UserLocked = "user_locked";
    public const string UserUnlocked = "user_unlocked";
    public const string UserDeleted = "user_deleted";
    public const string BackchannelLogoutFailed = "backchannel_logout_failed";

    /// <summary>Someone asked for a password-reset mail; the detail says when none was sent, and why.</summary>
    public const string PasswordResetRequested = "password_reset_requested";
    public const string PasswordResetCompleted = "password_reset_completed";
    public const string EmailVerificationRequested = "email_verification_requested";
    public const string EmailVerified = "email_verified";
    public const string EmailChangeRequested = "email_change_requested";
    public const string EmailChanged = "email_changed";

    /// <summary>A mail could not be sent (the SMTP server is down or refused it); the detail names its purpose.</summary>
    public const string EmailSendFailed = "email_send_failed";

    /// <summary>The user turned on an authenticator app (second factor); <see cref="AuthenticatorDisabled"/> when they turned it off.</summary>
    public const string AuthenticatorEnabled = "authenticator_enabled";
    public const string AuthenticatorDisabled = "authenticator_disabled";

    /// <summary>New recovery codes replaced the old ones; the detail says how many.</summary>
    public const string RecoveryCodesGenerated = "recovery_codes_generated";

    /// <summary>A recovery code was used to sign in; the detail says how many are left.</summary>
    public const string RecoveryCodeUsed = "recovery_code_used";

    /// <summary>A wrong, used or malformed code at the second sign-in step (counted towards lockout); the detail says which.</summary>
    public const string SecondFactorFailed = "second_factor_failed";

    /// <summary>An administrator turned off the account's authenticator and deleted its recovery codes.</summary>
    public const string SecondFactorsReset = "second_factors_reset";

    /// <summary>An administrator created an account (admin API or pages); the detail lists its roles.</summary>
    public const string UserCreated = "user_created";

    /// <summary>An invitation mail went out (at creation or resent); the link of every earlier one stopped working.</summary>
    public const string InvitationSent = "invitation_sent";

    /// <summary>The invited user chose a password, which also verified the address.</summary>
    public const string InvitationAccepted = "invitation_accepted";

    /// <summary>An administrator replaced the account's roles; the detail lists the new ones.</summary>
    public const string UserRolesChanged = "user_roles_changed";

    /// <summary>An administrator replaced the account's profile claims; the detail lists the claim types it now has.</summary>
    public const string UserClaimsChanged = "user_claims_changed";

    /// <summary>An administrator had a password-reset link mailed to the account.</summary>
    public const string PasswordResetSentByAdmin = "password_reset_sent_by_admin";

    /// <summary>Someone registered an account on the registration page.</summary>
    public const string UserRegistered = "user_registered";

    /// <summary>An administrator registered a client through the admin API (detail: its client id).</summary>
    public const string ClientCreated = "client_created";

    /// <summary>An administrator changed a client's settings (detail: each changed field, old and new).</summary>
    public const string ClientUpdated = "client_updated";

    /// <summary>An administrator deleted a client; its grants and tokens went with it (detail: its client id).</summary>
    public const string ClientDeleted = "client_deleted";

    /// <summary>An administrator disabled a client (its grants and tokens were revoked) or enabled it again (detail: its client id).</summary>
    public const string ClientDisabled = "client_disabled";
    public const string ClientEnabled = "client_enabled";

    /// <summary>An administrator added a client secret (detail: its id and expiry, and the expiry given to the one in use) or removed one; never a secret.</summary>
    public const string ClientSecretAdded = "client_secret_added";
    public const string ClientSecretRemoved = "client_secret_removed";

    /// <summary>An administrator defined, changed (detail: the scope and each changed field, old and new) or deleted a scope.</summary>
    public const string ScopeCreated = "scope_created";
    public const string ScopeUpdated = "scope_updated";
    public const string ScopeDeleted = "scope_deleted";

    /// <summary>An administrator downloaded the configuration as a seed file (detail: what it holds).</summary>
    public const string ConfigurationExported = "configuration_exported";

    /// <summary>A signing key was created (by the rotation schedule, or an administrator's "rotate now"; detail: its id, algorithm and the time it signs from) or revoked by an administrator.</summary>
    public const string SigningKeyCreated = "signing_key_created";
    public const string SigningKeyRevoked = "signing_key_revoked";

    /// <summary>Someone tried to register with an address that already has an account; its owner was told by mail.</summary>
    public const string RegistrationAddressInUse = "registration_address_in_use";

    /// <summary>The user added a passkey on the Security page (<see cref="PasskeyRemoved"/>, <see cref="PasskeyRenamed"/>: removed, renamed one).</summary>
    public const string PasskeyAdded = "passkey_added";
    public const string PasskeyRemoved = "passkey_removed";
    public const string PasskeyRenamed = "passkey_renamed";

    /// <summary>A signed-in user proved a further factor for an application that asked for more (acr_values, RequireMfa); the detail is the session's amr now.</summary>
    public const string StepUpCompleted = "step_up_completed";

    /// <summary>An application asked for two factors of a user who has none: sent to set up an authenticator; the client id says which.</summary>
    public const string MfaEnrolmentRequired = "mfa_enrolment_required";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        SignInSucceeded, SignInFailed, LockedOut, SessionStarted, SessionEnded, ConsentGranted, AccessRemoved, TokenReuseDetected,
        RefreshTokenReplayed, TokenRevoked, PasswordChanged, UserLocked, UserUnlocked, UserDeleted, BackchannelLogoutFailed,
        PasswordResetRequested, PasswordResetCompleted, EmailVerificationRequested, EmailVerified, EmailChangeRequested, EmailChanged,
        EmailSendFailed,
        AuthenticatorEnabled, AuthenticatorDisabled, RecoveryCodesGenerated, RecoveryCodeUsed, SecondFactorFailed, SecondFactorsReset,
        UserCreated, InvitationSent, InvitationAccepted, UserRolesChanged, UserClaimsChanged, PasswordResetSentByAdmin,
        UserRegistered, RegistrationAddressInUse, ClientCreated, ClientUpdated, ClientDeleted,
        ClientDisabled, ClientEnabled, ClientSecretAdded, ClientSecretRemoved, ScopeCreated, ScopeUpdated, ScopeDeleted, ConfigurationExported,
        SigningKeyCreated, SigningKeyRevoked,
        PasskeyAdded, PasskeyRemoved, PasskeyRenamed,
        StepUpCompleted, MfaEnrolmentRequired,
    };
}
