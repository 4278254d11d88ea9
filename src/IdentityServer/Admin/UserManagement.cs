using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.Email;
using IdentityServer.Sessions;
using IdentityServer.Invitations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Admin;

/// <summary>
/// Accounts made and changed at run time, shared by the admin API and the admin pages: create
/// (with an invitation), replace roles and profile claims, mail a reset link, resend an invitation.
/// Input is checked completely before anything is written, so a refused request changes nothing.
/// </summary>
internal sealed class UserManagement(
    UserManager<ApplicationUser> users,
    RoleManager<IdentityRole> roles,
    Invitation invitations,
    AccountLinks links,
    MailSender mail,
    MailDelivery delivery,
    AuditLog audit,
    SessionService sessions,
    IOptions<AccountLinkOptions> linkOptions)
{
    /// <summary>
    /// The claim types an administrator may set: the OpenID Connect profile claims (released with
    /// the <c>profile</c> scope), except <c>preferred_username</c>, which is the user name, and
    /// <c>updated_at</c>, which would have to be kept true by the server.
    /// </summary>
    public static readonly IReadOnlySet<string> EditableClaimTypes = PrincipalFactory.ProfileClaims
        .Where(static type => type is not (Claims.PreferredUsername or Claims.UpdatedAt))
        .ToHashSet(StringComparer.Ordinal);

    public const int MaxLength = 256;
    public const int MaxClaimValueLength = 512;

    public async Task<ManagedUser?> FindAsync(string userId) =>
        await FindUserAsync(userId) is { } user ? await ViewAsync(user) : null;

    /// <summary>The roles an account can be given: those that exist (the seed creates them).</summary>
    public async Task<IReadOnlyList<string>> ListRolesAsync(CancellationToken cancellationToken) =>
        await roles.Roles.Select(static r => r.Name!).OrderBy(static n => n).ToListAsync(cancellationToken);

    public async Task<ManagementResult> CreateAsync(CreateUserRequest request, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>();
        var userName = request.UserName?.Trim();
        var email = request.Email?.Trim();
        if (string.IsNullOrEmpty(userName) || userName.Length > MaxLength)
        {
            errors["userName"] = [$"Required, at most {MaxLength} characters."];
        }
        else if (userName.Any(c => !users.Options.User.AllowedUserNameCharacters.Contains(c)))
        {
            errors["userName"] = ["Only letters, digits and - . _ @ + are allowed."];
        }
        if (string.IsNullOrEmpty(email) || email.Length > MaxLength || !new EmailAddressAttribute().IsValid(email) || !Email.MailAddresses.CanSendTo(email))
        {
            errors["email"] = ["A valid e-mail address is required: the invitation and every account mail go there."];
        }
        var wantedRoles = await CheckRolesAsync(request.Roles ?? [], errors);
        var wantedClaims = CheckClaims(request.Claims, errors);
        if (errors.Count > 0)
        {
            return new ManagementResult(ManagementOutcome.Invalid, Errors: errors);
        }
        if (await users.FindByNameAsync(userName!) is not null || await users.FindByEmailAsync(email!) is not null)
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "An account with this user name or e-mail address already exists.");
        }

        // No password: the owner chooses one through the invitation. Until then no password signs in.
        var user = new ApplicationUser { UserName = userName, Email = email, EmailConfirmed = false };
        IdentityResult created;
        try
        {
            created = await users.CreateAsync(user);
        }
        catch (DbUpdateException)
        {
            // The same name created at the same moment by another request: the unique index refused it.
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "An account with this user name or e-mail address already exists.");
        }
        if (!created.Succeeded)
        {
            return created.Errors.Any(static e => e.Code is nameof(IdentityErrorDescriber.DuplicateUserName) or nameof(IdentityErrorDescriber.DuplicateEmail))
                ? new ManagementResult(ManagementOutcome.Conflict, Problem: "An account with this user name or e-mail address already exists.")
                : new ManagementResult(ManagementOutcome.Invalid, Errors: new Dictionary<string, string[]> { ["userName"] = [.. created.Errors.Select(static e => e.Description)] });
        }
        if (wantedRoles.Count > 0)
        {
            Check(await users.AddToRolesAsync(user, wantedRoles));
        }
        if (wantedClaims is { Count: > 0 })
        {
            Check(await users.AddClaimsAsync(user, wantedClaims));
        }
        await audit.RecordAsync(SecurityEventTypes.UserCreated, user.Id, user.UserName, actor: actor,
            detail: Detail("roles", wantedRoles), cancellationToken: CancellationToken.None);

        bool? sent = null;
        if (request.SendInvitation ?? true)
        {
            sent = await invitations.SendAsync(user, actor, cancellationToken);
        }
        return new ManagementResult(ManagementOutcome.Done, await ViewAsync(user) with { InvitationSent = sent });
    }

    /// <summary>Replaces the roles and/or the profile claims, each when given.</summary>
    public async Task<ManagementResult> UpdateAsync(string userId, UpdateUserRequest request, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await FindUserAsync(userId) is not { } user)
        {
            return new ManagementResult(ManagementOutcome.NotFound);
        }
        var errors = new Dictionary<string, string[]>();
        var wantedRoles = request.Roles is null ? null : await CheckRolesAsync(request.Roles, errors);
        var wantedClaims = CheckClaims(request.Claims, errors);
        if (errors.Count > 0)
        {
            return new ManagementResult(ManagementOutcome.Invalid, Errors: errors);
        }
        // An administrator could otherwise lock themselves (and perhaps everyone) out of the admin pages.
        if (actor == user.Id && wantedRoles is not null && !wantedRoles.Contains(AdminScope.Role, StringComparer.OrdinalIgnoreCase))
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: $"An administrator cannot take the '{AdminScope.Role}' role from their own account.");
        }

        if (wantedRoles is not null)
        {
            var current = await users.GetRolesAsync(user);
            var removed = current.Except(wantedRoles, StringComparer.OrdinalIgnoreCase).ToList();
            var added = wantedRoles.Except(current, StringComparer.OrdinalIgnoreCase).ToList();
            if (removed.Count > 0 || added.Count > 0)
            {
                if (removed.Count > 0)
                {
                    Check(await users.RemoveFromRolesAsync(user, removed));
                }
                if (added.Count > 0)
                {
                    Check(await users.AddToRolesAsync(user, added));
                }
                await audit.RecordAsync(SecurityEventTypes.UserRolesChanged, user.Id, user.UserName, actor: actor,
                    detail: Detail("roles", wantedRoles), cancellationToken: CancellationToken.None);
                // The cookie keeps its role claims until its next renewal, and tokens until they
                // expire: a demoted admin's sessions end now, and their tokens with them.
                if (removed.Contains(AdminScope.Role, StringComparer.OrdinalIgnoreCase))
                {
                    await sessions.EndAllAsync(user.Id, SessionEndReasons.AdminRoleRemoved, actor, null, CancellationToken.None);
                }
            }
        }
        if (wantedClaims is not null)
        {
            // Only the editable types are replaced: claims of other types (set by the seed or another tool) stay.
            var current = (await users.GetClaimsAsync(user)).Where(static c => EditableClaimTypes.Contains(c.Type)).ToList();
            var same = current.Count == wantedClaims.Count
                && current.All(c => wantedClaims.Any(w => w.Type == c.Type && w.Value == c.Value));
            if (!same)
            {
                if (current.Count > 0)
                {
                    Check(await users.RemoveClaimsAsync(user, current));
                }
                if (wantedClaims.Count > 0)
                {
                    Check(await users.AddClaimsAsync(user, wantedClaims));
                }
                await audit.RecordAsync(SecurityEventTypes.UserClaimsChanged, user.Id, user.UserName, actor: actor,
                    detail: Detail("claims", wantedClaims.Select(static c => c.Type)), cancellationToken: CancellationToken.None);
            }
        }
        return new ManagementResult(ManagementOutcome.Done, await ViewAsync(user));
    }

    /// <summary>
    /// Mails the account a password-reset link now (the usual reset page and rules). Refused for an
    /// account that has no password yet (it needs an invitation) or that an administrator locked
    /// (the reset page would refuse the link).
    /// </summary>
    public async Task<ManagementResult> SendPasswordResetAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId) is not { } user)
        {
            return new ManagementResult(ManagementOutcome.NotFound);
        }
        if (user.PasswordHash is null)
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "The account has no password yet: send an invitation instead.");
        }
        if (string.IsNullOrEmpty(user.Email))
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "The account has no e-mail address.");
        }
        if (user.LockoutEnd == DateTimeOffset.MaxValue)
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "The account is locked by an administrator: unlock it first.");
        }
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var lifetime = linkOptions.Value.PasswordResetLinkLifetime;
        var message = AdminMails.PasswordReset(user.UserName ?? user.Email, links.Create(PasswordReset.PagePath, user.Id, token), lifetime)
            .ToMessage(mail.From, mail.ProductName, user.Email);
        if (!await delivery.TrySendAsync(new OutgoingMail(message, AccountMails.PasswordResetPurpose, user.Id, user.UserName), cancellationToken))
        {
            return new ManagementResult(ManagementOutcome.MailFailed, Problem: "The mail could not be sent; the failure is in the audit trail.");
        }
        await audit.RecordAsync(SecurityEventTypes.PasswordResetSentByAdmin, user.Id, user.UserName, actor: actor, cancellationToken: CancellationToken.None);
        return new ManagementResult(ManagementOutcome.Done, await ViewAsync(user));
    }

    /// <summary>Sends a new invitation (earlier links stop working); refused once a password was chosen.</summary>
    public async Task<ManagementResult> ResendInvitationAsync(string userId, string actor, CancellationToken cancellationToken)
    {
        if (await FindUserAsync(userId) is not { } user)
        {
            return new ManagementResult(ManagementOutcome.NotFound);
        }
        if (user.PasswordHash is not null)
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "The account already has a password: send a password reset link instead.");
        }
        if (string.IsNullOrEmpty(user.Email))
        {
            return new ManagementResult(ManagementOutcome.Conflict, Problem: "The account has no e-mail address.");
        }
        if (!await invitations.SendAsync(user, actor, cancellationToken))
        {
            return new ManagementResult(ManagementOutcome.MailFailed, Problem: "The mail could not be sent; the failure is in the audit trail.");
        }
        return new ManagementResult(ManagementOutcome.Done, await ViewAsync(user) with { InvitationSent = true });
    }

    private async Task<List<string>> CheckRolesAsync(IReadOnlyList<string?> requested, Dictionary<string, string[]> errors)
    {
        var found = new List<string>();
        var unknown = new List<string>();
        foreach (var role in requested.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(role) || role.Length > MaxLength || await roles.FindByNameAsync(role) is not { Name: { } name })
            {
                unknown.Add(role ?? "null");
            }
            else
            {
                found.Add(name);
            }
        }
        if (unknown.Count > 0)
        {
            errors["roles"] = [$"Unknown roles: {string.Join(", ", unknown.Select(static r => r.Length > 40 ? r[..40] + "…" : r))}. Roles are defined by the seed file."];
        }
        return found;
    }

    /// <summary>The claims to store, or null when none were given; problems go into <paramref name="errors"/>.</summary>
    private static List<Claim>? CheckClaims(IReadOnlyList<ClaimValue?>? requested, Dictionary<string, string[]> errors)
    {
        if (requested is null)
        {
            return null;
        }
        var problems = new List<string>();
        var claims = new List<Claim>();
        foreach (var claim in requested)
        {
            if (claim?.Type is not { } type || !EditableClaimTypes.Contains(type))
            {
                problems.Add($"'{Shorten(claim?.Type)}' is not a claim type that can be set; allowed: {string.Join(", ", EditableClaimTypes.Order(StringComparer.Ordinal))}.");
            }
            else if (string.IsNullOrWhiteSpace(claim.Value) || claim.Value.Length > MaxClaimValueLength || claim.Value.Any(char.IsControl))
            {
                problems.Add($"The value of '{type}' must be 1 to {MaxClaimValueLength} characters, without control characters.");
            }
            else if (claims.Any(c => c.Type == type))
            {
                problems.Add($"'{type}' is given twice; each claim has one value.");
            }
            else
            {
                claims.Add(new Claim(type, claim.Value.Trim()));
            }
        }
        if (problems.Count > 0)
        {
            errors["claims"] = [.. problems];
        }
        return claims;

        static string Shorten(string? value) => value is null ? "null" : value.Length > 40 ? value[..40] + "…" : value;
    }

    private async Task<ManagedUser> ViewAsync(ApplicationUser user)
    {
        var claims = (await users.GetClaimsAsync(user)).Where(static c => EditableClaimTypes.Contains(c.Type))
            .OrderBy(static c => c.Type, StringComparer.Ordinal).Select(static c => new ClaimValue(c.Type, c.Value)).ToList();
        var userRoles = (await users.GetRolesAsync(user)).Order(StringComparer.Ordinal).ToList();
        return new ManagedUser(user.Id, user.UserName, user.Email, user.EmailConfirmed, user.PasswordHash is not null, userRoles, claims);
    }

    private async Task<ApplicationUser?> FindUserAsync(string userId) =>
        string.IsNullOrEmpty(userId) || userId.Length > 450 ? null : await users.FindByIdAsync(userId);

    private static string? Detail(string name, IEnumerable<string> values)
    {
        var list = string.Join(" ", values.Order(StringComparer.Ordinal));
        return list.Length == 0 ? $"{name}: none" : $"{name}: {list}";
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("The account could not be updated: " + string.Join(" ", result.Errors.Select(e => e.Code)));
        }
    }
}
