namespace IdentityServer.Account;

/// <summary>The outcome of a reset: the link's state, and when the link was good, the password's problems (none when done).</summary>
internal sealed record PasswordResetResult(ResetLinkState Link, IReadOnlyList<string> Errors)
{
    public bool Succeeded => Link == ResetLinkState.Valid && Errors.Count == 0;
}
