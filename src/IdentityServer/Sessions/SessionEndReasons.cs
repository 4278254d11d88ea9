namespace IdentityServer.Sessions;

/// <summary>Why a session ended, as recorded on the session and in its security event.</summary>
public static class SessionEndReasons
{
    /// <summary>The user signed out through an app (RP-initiated logout) or on the identity provider.</summary>
    public const string SignedOut = "signed_out";

    /// <summary>The user ended it from the sessions page (this one or "everywhere else").</summary>
    public const string EndedByUser = "ended_by_user";

    public const string EndedByAdmin = "ended_by_admin";

    public const string UserLocked = "user_locked";

    public const string UserDeleted = "user_deleted";

    /// <summary>The user changed their password: their other sessions end.</summary>
    public const string PasswordChanged = "password_changed";

    /// <summary>The password was reset through a link sent by mail: every session of the user ends.</summary>
    public const string PasswordReset = "password_reset";

    /// <summary>The user's e-mail address changed (the new one was confirmed): their other sessions end.</summary>
    public const string EmailChanged = "email_changed";

    /// <summary>The user turned their authenticator on or off, or an admin reset it: their other sessions end.</summary>
    public const string SecondFactorChanged = "second_factor_changed";

    /// <summary>The user added or removed a passkey: their other sessions end.</summary>
    public const string PasskeysChanged = "passkeys_changed";

    /// <summary>An administrator took the admin role from the account: its sessions, and the admin tokens issued in them, end.</summary>
    public const string AdminRoleRemoved = "admin_role_removed";

    /// <summary>It reached <c>Sessions:AbsoluteLifetime</c>.</summary>
    public const string Expired = "expired";

    /// <summary>Nothing used it for <c>Sessions:IdleTimeout</c>.</summary>
    public const string IdleTimeout = "idle_timeout";

    /// <summary>A rotated refresh token (or used authorization code) of the session was presented again.</summary>
    public const string TokenReuse = "token_reuse_detected";

    /// <summary>The user signed in on more devices than <c>Sessions:MaxPerUser</c> allows; the oldest ended.</summary>
    public const string SessionLimit = "session_limit";
}
