using System.Security.Claims;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityServer.Admin;

/// <summary>
/// Clients at run time through the admin API (no restart): list, read, register with a generated
/// secret, change, delete. Mapped on the admin group, so access, antiforgery and rate limits are those of
/// every admin endpoint. The body of a registration is a client as the seed file writes it.
/// </summary>
internal static class ClientManagementApi
{
    public static RouteGroupBuilder MapClientManagement(this RouteGroupBuilder api)
    {
        api.MapGet("/clients", ListAsync)
            .WithName("ListClients").WithSummary("Every registered client, in the seed file's shape, without secrets.");
        api.MapGet("/clients/{clientId}", GetAsync)
            .WithName("GetClient").WithSummary("One client, in the seed file's shape, without its secret.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/clients", CreateAsync)
            .WithName("CreateClient").WithSummary("Registers a client, checked as the seed file is; a confidential client's secret is generated and answered this once.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPut("/clients/{clientId}", UpdateAsync)
            .WithName("UpdateClient").WithSummary("Replaces the client's settings (its secret and type stay); takes effect on every node at once.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/clients/{clientId}", DeleteAsync)
            .WithName("DeleteClient").WithSummary("Revokes the client's grants and tokens and deletes it (a client the seed file names comes back at the next start).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private static async Task<Ok<IReadOnlyList<SeedClient>>> ListAsync(ClientManagement clients, CancellationToken cancellationToken) =>
        TypedResults.Ok(await clients.ListAsync(cancellationToken));

    private static async Task<Results<Ok<SeedClient>, ProblemHttpResult>> GetAsync(string clientId, ClientManagement clients, CancellationToken cancellationToken) =>
        await clients.GetAsync(clientId, cancellationToken) is { } client ? TypedResults.Ok(client) : NotFound();

    private static async Task<Results<Created<ManagedClient>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        SeedClient request, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await clients.CreateAsync(request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Created($"{AdminApi.Prefix}/clients/{Uri.EscapeDataString(result.Client!.Client.ClientId!)}", result.Client),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: result.Problem),
        };
    }

    private static async Task<Results<Ok<SeedClient>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string clientId, SeedClient request, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await clients.UpdateAsync(clientId, request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Ok(result.Client!.Client),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            ManagementOutcome.NotFound => NotFound(),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: result.Problem),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string clientId, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        (await clients.DeleteAsync(clientId, AdminAccess.Actor(user), cancellationToken)).Outcome == ManagementOutcome.Done
            ? TypedResults.NoContent()
            : NotFound();

    private static ProblemHttpResult NotFound() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such client.");
}
