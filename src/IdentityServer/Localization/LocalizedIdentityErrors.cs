using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Localization;

/// <summary>
/// ASP.NET Core Identity's refusals (a weak password, a taken name) in the reader's language: the
/// English texts are Identity's own, so a page in English reads exactly as before.
/// </summary>
internal sealed class LocalizedIdentityErrors : IdentityErrorDescriber
{
    public override IdentityError DefaultError() => Translate(base.DefaultError());

    public override IdentityError PasswordMismatch() => Translate(base.PasswordMismatch());

    public override IdentityError InvalidToken() => Translate(base.InvalidToken());

    public override IdentityError ConcurrencyFailure() => Translate(base.ConcurrencyFailure());

    public override IdentityError UserAlreadyHasPassword() => Translate(base.UserAlreadyHasPassword());

    public override IdentityError RecoveryCodeRedemptionFailed() => Translate(base.RecoveryCodeRedemptionFailed());

    public override IdentityError PasswordTooShort(int length) =>
        New(nameof(PasswordTooShort), "Passwords must be at least {0} characters.", length);

    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) =>
        New(nameof(PasswordRequiresUniqueChars), "Passwords must use at least {0} different characters.", uniqueChars);

    public override IdentityError PasswordRequiresNonAlphanumeric() => Translate(base.PasswordRequiresNonAlphanumeric());

    public override IdentityError PasswordRequiresDigit() => Translate(base.PasswordRequiresDigit());

    public override IdentityError PasswordRequiresLower() => Translate(base.PasswordRequiresLower());

    public override IdentityError PasswordRequiresUpper() => Translate(base.PasswordRequiresUpper());

    public override IdentityError DuplicateUserName(string userName) =>
        New(nameof(DuplicateUserName), "Username '{0}' is already taken.", userName);

    public override IdentityError DuplicateEmail(string email) =>
        New(nameof(DuplicateEmail), "Email '{0}' is already taken.", email);

    public override IdentityError InvalidUserName(string? userName) =>
        New(nameof(InvalidUserName), "Username '{0}' is invalid, can only contain letters or digits.", userName ?? "");

    public override IdentityError InvalidEmail(string? email) =>
        New(nameof(InvalidEmail), "Email '{0}' is invalid.", email ?? "");

    private static IdentityError Translate(IdentityError error) => new() { Code = error.Code, Description = Texts.Get(error.Description) };

    private static IdentityError New(string code, string format, object value) => new() { Code = code, Description = Texts.Get(format, value) };
}
