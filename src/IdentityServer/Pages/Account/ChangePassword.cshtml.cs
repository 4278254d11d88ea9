using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.RateLimiting;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Changing the password ends the user's other sessions (and, through the security stamp, every
/// grant issued before the change); this browser stays signed in.
/// </summary>
[Authorize]
internal sealed class ChangePasswordModel(
    SignInManager<ApplicationUser> signIn,
    PasswordSignIn passwords,
    RateLimiters limits,
    SessionService sessions,
    AuditLog audit) : PageModel
{
    [BindProperty]
    public PasswordInput Input { get; set; } = new();

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public bool Changed { get; private set; }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            Errors = [.. ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage)];
            return Page();
        }
        var user = await signIn.UserManager.GetUserAsync(User);
        if (user is null)
        {
            return Challenge();
        }

        // The current password is checked as a sign-in checks it: refused while the account is
        // locked, a wrong one counted (exactly, even when guesses run in parallel), under the same
        // per-account rate limit. A browser left signed in cannot be used to guess it and then end
        // the user's other sessions. Not cancelled with the request: a guess still counts.
        using (var lease = limits.AcquireSignIn(HttpContext, user.UserName ?? user.Id))
        {
            if (!lease.IsAcquired)
            {
                var seconds = RateLimitResponses.Refuse(Response, lease);
                Errors = [Texts.Get("Too many attempts. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds))];
                return Page();
            }
        }
        var outcome = await passwords.CheckAccountPasswordAsync(user, Input.CurrentPassword, CancellationToken.None);
        if (outcome != PasswordCheckOutcome.Succeeded)
        {
            var (type, detail) = outcome switch
            {
                PasswordCheckOutcome.LockedOut => (SecurityEventTypes.LockedOut, "change_password"),
                PasswordCheckOutcome.FailedAndLocked => (SecurityEventTypes.LockedOut, "change_password_wrong_password"),
                PasswordCheckOutcome.NotAllowed => (SecurityEventTypes.SignInFailed, "change_password_not_allowed"),
                _ => (SecurityEventTypes.SignInFailed, "change_password_wrong_password"),
            };
            await audit.RecordAsync(type, user.Id, user.UserName, User.FindFirst(SessionService.SessionIdClaim)?.Value,
                detail: detail, cancellationToken: CancellationToken.None);
            if (outcome is PasswordCheckOutcome.FailedAndLocked or PasswordCheckOutcome.LockedOut)
            {
                await signIn.SignOutAsync();
                return RedirectToPage("/Account/Login");
            }
            Errors = [Texts.Get("The current password is incorrect.")];
            return Page();
        }

        var result = await signIn.UserManager.ChangePasswordAsync(user, Input.CurrentPassword, Input.NewPassword);
        if (!result.Succeeded)
        {
            Errors = [.. result.Errors.Select(e => e.Description)];
            return Page();
        }

        var current = User.FindFirst(SessionService.SessionIdClaim)?.Value;
        audit.Add(SecurityEventTypes.PasswordChanged, user.Id, user.UserName, current);
        await sessions.EndAllAsync(user.Id, SessionEndReasons.PasswordChanged, user.Id, current, HttpContext.RequestAborted);

        // The cookie carries the old security stamp: issue it again for the same session, keeping
        // when and how the user signed in, and (in its properties) whether the cookie is
        // remembered and when it expires.
        var kept = User.Claims
            .Where(static c => c.Type is Claims.AuthenticationTime or Claims.AuthenticationMethodReference or SessionService.SessionIdClaim)
            .Select(static c => new Claim(c.Type, c.Value, c.ValueType))
            .ToList();
        var properties = (await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Properties;
        await signIn.SignInWithClaimsAsync(user, properties, kept);

        Changed = true;
        Input = new();
        return Page();
    }

    public sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter your current password.")]
        [StringLength(512)]
        [DataType(DataType.Password)]
        public string CurrentPassword { get; set; } = "";

        [Required(ErrorMessage = "Enter a new password.")]
        [StringLength(512)]
        [DataType(DataType.Password)]
        public string NewPassword { get; set; } = "";

        [Compare(nameof(NewPassword), ErrorMessage = "The new passwords do not match.")]
        [DataType(DataType.Password)]
        public string ConfirmPassword { get; set; } = "";
    }
}
