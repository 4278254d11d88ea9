using System.Security.Claims;
using IdentityServer.Audit;
using IdentityServer.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityServer.Admin;

/// <summary>The JSON admin API under <c>/api/admin</c>. Access is declared once, on the group (see <see cref="AdminSetup"/>).</summary>
internal static class AdminApi
{
    public const string Prefix = "/api/admin";

    private const int MaxPageSize = 100;
    private const int MaxEventLimit = 1000;

    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix)
            .RequireAuthorization(AdminAccess.ApiPolicy)
            .AddEndpointFilter<CookieAntiforgeryFilter>()
            .AddEndpointFilter<ConcurrencyConflictFilter>()
            .RequireRateLimiting(RateLimitSetup.AdminPolicy)
            .WithTags("Admin")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/users", SearchUsersAsync)
            .WithName("SearchUsers").WithSummary("Lists accounts, optionally those whose user name or email contains a text, a page at a time.")
            .ProducesValidationProblem();
        api.MapGet("/users/{userId}", GetUserAsync)
            .WithName("GetUser").WithSummary("One account with its lockout state, roles and active session count.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/users/{userId}/sessions", ListSessionsAsync)
            .WithName("ListUserSessions").WithSummary("The account's active sessions, and with includeEnded=true its recent ended ones.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/users/{userId}/sessions/{sessionId}", EndSessionAsync)
            .WithName("EndSession").WithSummary("Ends one session: revokes its tokens and notifies its clients (reason ended_by_admin).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/users/{userId}/sessions", EndAllSessionsAsync)
            .WithName("EndAllSessions").WithSummary("Ends every active session of the account (reason ended_by_admin).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/users/{userId}/lock", LockAsync)
            .WithName("LockUser").WithSummary("Locks the account until unlocked and ends its sessions (reason user_locked).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/users/{userId}/unlock", UnlockAsync)
            .WithName("UnlockUser").WithSummary("Lifts the account's lockout and resets its failed sign-in count.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/users/{userId}/reset-second-factors", ResetSecondFactorsAsync)
            .WithName("ResetSecondFactors").WithSummary("Turns the account's authenticator app off, replaces its key, deletes its recovery codes and ends its sessions (reason second_factor_changed).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/users/{userId}", DeleteAsync)
            .WithName("DeleteUser").WithSummary("Ends the account's sessions, revokes all its grants and tokens, and deletes it.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/events", QueryEventsAsync)
            .WithName("QueryEvents").WithSummary("Security events, newest first, filtered by user, type and time (from inclusive, to exclusive).")
            .ProducesValidationProblem();
        api.MapGet("/statistics", StatisticsAsync)
            .WithName("SessionStatistics").WithSummary("Active sessions now, and sign-ins succeeded and failed per day (or hour) over a window.")
            .ProducesValidationProblem();
        api.MapUserManagement();
        api.MapClientManagement();
        api.MapScopeManagement();
        api.MapKeyManagement();
        return api;
    }

    private static async Task<Results<Ok<UserPage>, ValidationProblem>> SearchUsersAsync(
        UserAdministration admin, CancellationToken cancellationToken, string? query = null, int page = 1, int pageSize = 20)
    {
        var errors = new Dictionary<string, string[]>();
        if (query?.Length > 256)
        {
            errors["query"] = ["At most 256 characters."];
        }
        if (page < 1)
        {
            errors["page"] = ["Pages are numbered from 1."];
        }
        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"Between 1 and {MaxPageSize}."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return TypedResults.Ok(await admin.SearchAsync(query, page, pageSize, cancellationToken));
    }

    private static async Task<Results<Ok<UserDetails>, ProblemHttpResult>> GetUserAsync(
        string userId, UserAdministration admin, CancellationToken cancellationToken) =>
        await admin.FindAsync(userId, cancellationToken) is { } user ? TypedResults.Ok(user) : UserNotFound();

    private static async Task<Results<Ok<IReadOnlyList<SessionView>>, ProblemHttpResult>> ListSessionsAsync(
        string userId, UserAdministration admin, CancellationToken cancellationToken, bool includeEnded = false) =>
        await admin.ListSessionsAsync(userId, includeEnded, cancellationToken) is { } sessions ? TypedResults.Ok(sessions) : UserNotFound();

    private static async Task<Results<NoContent, ProblemHttpResult>> EndSessionAsync(
        string userId, string sessionId, UserAdministration admin, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await admin.EndSessionAsync(userId, sessionId, AdminAccess.Actor(user), cancellationToken) switch
        {
            EndSessionOutcome.Ended => TypedResults.NoContent(),
            EndSessionOutcome.AlreadyEnded => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The session has already ended."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The user has no such session."),
        };

    private static async Task<Results<Ok<EndedSessions>, ProblemHttpResult>> EndAllSessionsAsync(
        string userId, UserAdministration admin, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await admin.EndAllSessionsAsync(userId, AdminAccess.Actor(user), cancellationToken) is { } ended ? TypedResults.Ok(ended) : UserNotFound();

    private static async Task<Results<Ok<EndedSessions>, ProblemHttpResult>> LockAsync(
        string userId, UserAdministration admin, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var actor = AdminAccess.Actor(user);
        if (actor == userId)
        {
            return CannotTargetSelf();
        }
        return await admin.LockAsync(userId, actor, cancellationToken) is { } ended ? TypedResults.Ok(ended) : UserNotFound();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> UnlockAsync(
        string userId, UserAdministration admin, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await admin.UnlockAsync(userId, AdminAccess.Actor(user), cancellationToken) ? TypedResults.NoContent() : UserNotFound();

    private static async Task<Results<Ok<EndedSessions>, ProblemHttpResult>> ResetSecondFactorsAsync(
        string userId, UserAdministration admin, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var actor = AdminAccess.Actor(user);
        // An admin turns off their own authenticator on the Security page, after a fresh sign-in.
        if (actor == userId)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "An administrator cannot reset their own second factors here; use the Security page.");
        }
        return await admin.ResetSecondFactorsAsync(userId, actor, cancellationToken) is { } ended ? TypedResults.Ok(ended) : UserNotFound();
    }

    private static async Task<Results<Ok<DeletedUser>, ProblemHttpResult>> DeleteAsync(
        string userId, UserAdministration admin, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var actor = AdminAccess.Actor(user);
        if (actor == userId)
        {
            return CannotTargetSelf();
        }
        return await admin.DeleteAsync(userId, actor, cancellationToken) is { } deleted ? TypedResults.Ok(deleted) : UserNotFound();
    }

    private static async Task<Results<Ok<IReadOnlyList<SecurityEventView>>, ValidationProblem>> QueryEventsAsync(
        UserAdministration admin, CancellationToken cancellationToken,
        string? userId = null, string? type = null, DateTimeOffset? from = null, DateTimeOffset? to = null, int limit = 100)
    {
        var errors = new Dictionary<string, string[]>();
        if (type is not null && !SecurityEventTypes.All.Contains(type))
        {
            errors["type"] = [$"Unknown event type; one of: {string.Join(", ", SecurityEventTypes.All.Order(StringComparer.Ordinal))}."];
        }
        if (userId?.Length > 450)
        {
            errors["userId"] = ["At most 450 characters."];
        }
        if (from > to)
        {
            errors["from"] = ["'from' must not be after 'to'."];
        }
        if (limit is < 1 or > MaxEventLimit)
        {
            errors["limit"] = [$"Between 1 and {MaxEventLimit}."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return TypedResults.Ok(await admin.QueryEventsAsync(userId, type, from, to, limit, cancellationToken));
    }

    private static async Task<Results<Ok<SessionStatistics>, ValidationProblem>> StatisticsAsync(
        UserAdministration admin, TimeProvider clock, CancellationToken cancellationToken,
        string? interval = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        if (StatisticsInterval.Parse(interval) is not { } size)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["interval"] = ["'day' or 'hour'."] });
        }
        // Far-off dates would overflow the bucket arithmetic below.
        if (from is { Year: < 2000 or > 9000 } || to is { Year: < 2000 or > 9000 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["'from' and 'to' must lie between the years 2000 and 9000."] });
        }
        // Buckets are whole UTC days or hours: the window is widened to bucket boundaries.
        var end = size.Ceiling(to ?? clock.GetUtcNow());
        var start = size.Floor(from ?? end - size.DefaultBuckets * size.Length);
        if (start >= end)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["'from' must be before 'to'."] });
        }
        if ((end - start) / size.Length > StatisticsInterval.MaxBuckets)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = [$"At most {StatisticsInterval.MaxBuckets} buckets of one {size.Name}."] });
        }
        return TypedResults.Ok(await admin.StatisticsAsync(start, end, size, cancellationToken));
    }

    private static ProblemHttpResult UserNotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such user.");

    private static ProblemHttpResult CannotTargetSelf() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "An administrator cannot lock or delete their own account.");
}
