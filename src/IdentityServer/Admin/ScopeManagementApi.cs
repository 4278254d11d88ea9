using System.Security.Claims;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityServer.Admin;

/// <summary>
/// Scopes at run time through the admin API (no restart): list, read, define, change, delete. The body
/// is a scope as the seed file writes it. And the whole configuration exported as a seed file. Mapped
/// on the admin group like every admin endpoint.
/// </summary>
internal static class ScopeManagementApi
{
    public static RouteGroupBuilder MapScopeManagement(this RouteGroupBuilder api)
    {
        api.MapGet("/scopes", ListAsync)
            .WithName("ListScopes").WithSummary("Every defined scope (the built-in idp.admin included; the standard OpenID Connect scopes need no entry), in the seed file's shape.");
        api.MapGet("/scopes/{name}", GetAsync)
            .WithName("GetScope").WithSummary("One scope, in the seed file's shape.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/scopes", CreateAsync)
            .WithName("CreateScope").WithSummary("Defines a scope, checked as the seed file is; clients may be given it at once.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPut("/scopes/{name}", UpdateAsync)
            .WithName("UpdateScope").WithSummary("Replaces the scope's settings (its name stays); new tokens follow on every node at once.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/scopes/{name}", DeleteAsync)
            .WithName("DeleteScope").WithSummary("Deletes a scope no client may ask for any more (409 names the clients that still may).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/export", ExportAsync)
            .WithName("ExportConfiguration").WithSummary("The scopes, clients (secrets as hashes only) and, with users=true, the accounts (no passwords or factors) as a seed file a fresh server accepts.");
        return api;
    }

    private static async Task<IResult> ExportAsync(ConfigurationExport export, ClaimsPrincipal user, HttpContext context, CancellationToken cancellationToken, bool users = false)
    {
        var document = await export.ExportAsync(users, AdminAccess.Actor(user), cancellationToken);
        context.Response.Headers.ContentDisposition = "attachment; filename=seed.json";
        return TypedResults.Json(document, ConfigurationExport.Json);
    }

    private static async Task<Ok<IReadOnlyList<SeedScope>>> ListAsync(ScopeManagement scopes, CancellationToken cancellationToken) =>
        TypedResults.Ok(await scopes.ListAsync(cancellationToken));

    private static async Task<Results<Ok<SeedScope>, ProblemHttpResult>> GetAsync(string name, ScopeManagement scopes, CancellationToken cancellationToken) =>
        await scopes.GetAsync(name, cancellationToken) is { } scope ? TypedResults.Ok(scope) : NotFound();

    private static async Task<Results<Created<SeedScope>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        SeedScope request, ScopeManagement scopes, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await scopes.CreateAsync(request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Created($"{AdminApi.Prefix}/scopes/{Uri.EscapeDataString(result.Scope!.Name!)}", result.Scope),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => Problem(result),
        };
    }

    private static async Task<Results<Ok<SeedScope>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string name, SeedScope request, ScopeManagement scopes, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await scopes.UpdateAsync(name, request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Ok(result.Scope!),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => Problem(result),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string name, ScopeManagement scopes, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await scopes.DeleteAsync(name, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome == ManagementOutcome.Done ? TypedResults.NoContent() : Problem(result);
    }

    private static ProblemHttpResult Problem(ScopeResult result) => result.Outcome == ManagementOutcome.NotFound
        ? NotFound()
        : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: result.Problem);

    private static ProblemHttpResult NotFound() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such scope.");
}
