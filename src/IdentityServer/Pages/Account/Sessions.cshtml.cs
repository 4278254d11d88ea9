using IdentityServer.Localization;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Sessions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityServer.Pages.Account;

/// <summary>
/// The signed-in user's active sessions (device, IP, last seen, the apps using each) with
/// "sign out this session" and "sign out everywhere else", and their recent security activity.
/// </summary>
[Authorize]
public sealed class SessionsModel(
    SessionService sessions,
    SignInManager<ApplicationUser> signIn,
    IOpenIddictApplicationManager applications,
    ApplicationDbContext database) : PageModel
{
    /// <summary>Sessions and activity entries per page; older ones are one "Older" link away.</summary>
    internal const int PageSize = 20;

    public IReadOnlyList<SessionView> Sessions { get; private set; } = [];

    public IReadOnlyList<SecurityEvent> Activity { get; private set; } = [];

    public string? Message { get; private set; }

    /// <summary>Which page of sessions and of activity is shown, and whether more follow.</summary>
    public Paging SessionPaging { get; private set; } = new(1, false);

    public Paging ActivityPaging { get; private set; } = new(1, false);

    private string UserId => signIn.UserManager.GetUserId(User)!;

    private string? CurrentSessionId => User.FindFirst(SessionService.SessionIdClaim)?.Value;

    public async Task OnGetAsync([FromQuery(Name = "sessions")] int? sessionPage, [FromQuery(Name = "activity")] int? activityPage) =>
        await LoadAsync(sessionPage ?? 1, activityPage ?? 1);

    /// <summary>Ends one of the user's own sessions; ending this browser's session signs it out.</summary>
    public async Task<IActionResult> OnPostEndAsync(string id)
    {
        var own = (await sessions.ListActiveAsync(UserId, HttpContext.RequestAborted)).Any(s => s.Id == id);
        if (!own)
        {
            // Not (or no longer) one of this user's active sessions: nothing to end, say nothing more.
            Message = Texts.Get("That session has already ended.");
            await LoadAsync();
            return Page();
        }
        await sessions.EndAsync(id, SessionEndReasons.EndedByUser, UserId, HttpContext.RequestAborted);
        if (id == CurrentSessionId)
        {
            await signIn.SignOutAsync();
            return RedirectToPage("/Account/Login");
        }
        return RedirectToPage(new { ended = 1 });
    }

    public async Task<IActionResult> OnPostEndOthersAsync()
    {
        await sessions.EndAllAsync(UserId, SessionEndReasons.EndedByUser, UserId, CurrentSessionId, HttpContext.RequestAborted);
        return RedirectToPage(new { ended = 1 });
    }

    private async Task LoadAsync(int sessionPage = 1, int activityPage = 1)
    {
        sessionPage = Math.Max(1, sessionPage);
        activityPage = Math.Max(1, activityPage);
        var cancellationToken = HttpContext.RequestAborted;
        if (Request.Query.ContainsKey("ended"))
        {
            Message ??= Texts.Get("Signed out.");
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var views = new List<SessionView>();
        foreach (var session in await sessions.ListActiveAsync(UserId, cancellationToken))
        {
            var apps = new List<string>();
            foreach (var clientId in session.Clients.OrderBy(c => c.FirstUsedAt).Select(c => c.ClientId))
            {
                if (!names.TryGetValue(clientId, out var name))
                {
                    var application = await applications.FindByClientIdAsync(clientId, cancellationToken);
                    name = application is null ? clientId : await applications.GetLocalizedDisplayNameAsync(application, cancellationToken) ?? clientId;
                    names[clientId] = name;
                }
                apps.Add(name);
            }
            views.Add(new SessionView(session.Id, IdentityServer.Sessions.DeviceNames.Describe(session.UserAgent), session.IpAddress, session.CreatedAt, session.LastSeenAt, apps, session.Id == CurrentSessionId));
        }
        // This browser first, then by last activity.
        var ordered = views.OrderByDescending(v => v.IsCurrent).ThenByDescending(v => v.LastSeenAt).ToList();
        Sessions = [.. ordered.Skip((sessionPage - 1) * PageSize).Take(PageSize)];
        SessionPaging = new(sessionPage, ordered.Count > sessionPage * PageSize);

        var activity = await database.SecurityEvents.AsNoTracking()
            .Where(e => e.UserId == UserId)
            .OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id)
            .Skip((activityPage - 1) * PageSize)
            .Take(PageSize + 1)
            .ToListAsync(cancellationToken);
        Activity = [.. activity.Take(PageSize)];
        ActivityPaging = new(activityPage, activity.Count > PageSize);
    }

    /// <summary>A page number (from 1) and whether an older page follows.</summary>
    public sealed record Paging(int Page, bool HasOlder);

    public sealed record SessionView(
        string Id, string Device, string? IpAddress, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, IReadOnlyList<string> Apps, bool IsCurrent);

    /// <summary>Words for the activity list.</summary>
    public static string Describe(SecurityEvent entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Type switch
        {
            SecurityEventTypes.SignInSucceeded => Texts.Get("Signed in"),
            SecurityEventTypes.SignInFailed => Texts.Get("Failed sign-in attempt"),
            SecurityEventTypes.LockedOut => Texts.Get("Account locked after failed sign-ins"),
            SecurityEventTypes.SessionStarted => Texts.Get("Session started"),
            SecurityEventTypes.SessionEnded => Texts.Get("Session ended ({0})", entry.Detail?.Replace('_', ' ')),
            SecurityEventTypes.ConsentGranted => Texts.Get("Allowed {0} access", entry.ClientId),
            SecurityEventTypes.AccessRemoved => Texts.Get("Removed the access of {0}", entry.ClientId),
            SecurityEventTypes.TokenReuseDetected => Texts.Get("A stolen or replayed token was detected; its session was ended"),
            SecurityEventTypes.TokenRevoked => Texts.Get("{0} revoked a token", entry.ClientId),
            SecurityEventTypes.PasswordChanged => Texts.Get("Password changed"),
            SecurityEventTypes.UserLocked => Texts.Get("Account locked by an administrator"),
            SecurityEventTypes.UserUnlocked => Texts.Get("Account unlocked by an administrator"),
            SecurityEventTypes.PasswordResetRequested => entry.Detail is null ? Texts.Get("Password reset link sent") : Texts.Get("Password reset asked for; no link sent"),
            SecurityEventTypes.PasswordResetCompleted => Texts.Get("Password reset with a mailed link"),
            SecurityEventTypes.EmailVerificationRequested => Texts.Get("Verification link sent"),
            SecurityEventTypes.EmailVerified => Texts.Get("E-mail address verified"),
            SecurityEventTypes.EmailChangeRequested => Texts.Get("Change of e-mail address asked for"),
            SecurityEventTypes.EmailChanged => Texts.Get("E-mail address changed"),
            SecurityEventTypes.EmailSendFailed => Texts.Get("A mail could not be sent"),
            _ => SecurityEventLabels.For(entry.Type),
        };
    }
}
