namespace IdentityServer.Account;

/// <summary>How a user proved who they are: <c>amr</c> values from RFC 8176, kept on the session and its cookie.</summary>
internal static class AuthenticationMethods
{
    /// <summary>A password (RFC 8176 2: <c>pwd</c>).</summary>
    public const string Password = "pwd";
}
