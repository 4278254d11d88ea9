using IdentityServer.Data;

namespace IdentityServer.Account;

/// <summary>
/// The outcome of one sign-in attempt. <paramref name="User"/> is null when the login matches no
/// account; <paramref name="AuditUserName"/> is what the audit trail records as the user name: the
/// account's own name, or for an unknown login a keyed hash of it, never the text that was typed.
/// </summary>
internal sealed record PasswordCheck(PasswordCheckOutcome Outcome, ApplicationUser? User, string? AuditUserName);
