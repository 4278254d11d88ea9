using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityServer.Admin;

/// <summary>
/// Creating and changing accounts at run time through the admin API (no restart): create with an
/// invitation, replace roles and profile claims, mail a reset link, resend an invitation. Mapped on
/// the admin group, so access, antiforgery and rate limits are those of every admin endpoint.
/// </summary>
internal static class UserManagementApi
{
    public static RouteGroupBuilder MapUserManagement(this RouteGroupBuilder api)
    {
        api.MapPost("/users", CreateAsync)
            .WithName("CreateUser").WithSummary("Creates an account without a password and (unless sendInvitation is false) mails it an invitation to choose one.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPatch("/users/{userId}", UpdateAsync)
            .WithName("UpdateUser").WithSummary("Replaces the account's roles and/or profile claims (each when given).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/users/{userId}/send-password-reset", SendPasswordResetAsync)
            .WithName("SendPasswordReset").WithSummary("Mails the account a link to choose a new password.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/users/{userId}/invitation", ResendInvitationAsync)
            .WithName("ResendInvitation").WithSummary("Mails a new invitation to an account that has no password yet; earlier links stop working.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }

    private static async Task<Results<Created<ManagedUser>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateUserRequest request, UserManagement management, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await management.CreateAsync(request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Created($"{AdminApi.Prefix}/users/{Uri.EscapeDataString(result.User!.Id)}", result.User),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => Problem(result),
        };
    }

    private static async Task<Results<Ok<ManagedUser>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string userId, UpdateUserRequest request, UserManagement management, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await management.UpdateAsync(userId, request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Ok(result.User),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => Problem(result),
        };
    }

    private static async Task<Results<Ok<ManagedUser>, ProblemHttpResult>> SendPasswordResetAsync(
        string userId, UserManagement management, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        Answer(await management.SendPasswordResetAsync(userId, AdminAccess.Actor(user), cancellationToken));

    private static async Task<Results<Ok<ManagedUser>, ProblemHttpResult>> ResendInvitationAsync(
        string userId, UserManagement management, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        Answer(await management.ResendInvitationAsync(userId, AdminAccess.Actor(user), cancellationToken));

    private static Results<Ok<ManagedUser>, ProblemHttpResult> Answer(ManagementResult result) =>
        result.Outcome == ManagementOutcome.Done ? TypedResults.Ok(result.User) : Problem(result);

    private static ProblemHttpResult Problem(ManagementResult result) => result.Outcome switch
    {
        ManagementOutcome.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such user."),
        ManagementOutcome.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: result.Problem),
        // The account exists and nothing else changed; the administrator may try again later.
        ManagementOutcome.MailFailed => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: result.Problem),
        _ => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: result.Problem),
    };
}
