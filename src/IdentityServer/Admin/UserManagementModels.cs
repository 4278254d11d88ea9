namespace IdentityServer.Admin;

/// <summary>The body of <c>POST /api/admin/users</c>.</summary>
internal sealed record CreateUserRequest(
    string? UserName, string? Email, IReadOnlyList<string?>? Roles, IReadOnlyList<ClaimValue?>? Claims, bool? SendInvitation);

/// <summary>The body of <c>PATCH /api/admin/users/{userId}</c>: each list given replaces the account's.</summary>
internal sealed record UpdateUserRequest(IReadOnlyList<string?>? Roles, IReadOnlyList<ClaimValue?>? Claims);

/// <summary>A profile claim of an account, as the admin API reads and writes it.</summary>
internal sealed record ClaimValue(string? Type, string? Value);

/// <summary>
/// An account as an administrator manages it: roles, profile claims, whether a password has been
/// chosen yet. <see cref="InvitationSent"/> is set only in the answer to a creation or a resend.
/// </summary>
internal sealed record ManagedUser(
    string Id, string? UserName, string? Email, bool EmailConfirmed, bool PasswordSet,
    IReadOnlyList<string> Roles, IReadOnlyList<ClaimValue> Claims, bool? InvitationSent = null);

/// <summary>What a change to an account came to.</summary>
internal enum ManagementOutcome
{
    Done,
    NotFound,

    /// <summary>The input broke a rule; the errors name the fields.</summary>
    Invalid,

    /// <summary>The user name or address belongs to another account, or the account is in the wrong state for the action.</summary>
    Conflict,

    /// <summary>The mail could not be sent (recorded as <c>email_send_failed</c>).</summary>
    MailFailed,
}

/// <summary>The outcome of an account change, with the account as it is now or what was wrong.</summary>
internal sealed record ManagementResult(ManagementOutcome Outcome, ManagedUser? User = null,
    IDictionary<string, string[]>? Errors = null, string? Problem = null);
