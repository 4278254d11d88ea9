namespace IdentityServer.Registration;

/// <summary>What a registration came to, as far as the person registering may know it.</summary>
internal enum RegistrationOutcome
{
    /// <summary>"Check your mail": a new account, or an address that already had one (whose owner was told). The same answer for both.</summary>
    CheckYourMail,

    /// <summary>The user name belongs to another account (user names are public in any case: every sign-up must say so).</summary>
    UserNameTaken,

    /// <summary>The user name or password breaks a rule; the errors say which.</summary>
    Invalid,
}
