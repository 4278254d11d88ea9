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
        api.MapPost("/clients/{clientId}/disable", (string clientId, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken) =>
                SetEnabledAsync(clientId, false, clients, user, cancellationToken))
            .WithName("DisableClient").WithSummary("Refuses every request of the client from now on, on every node, and revokes its grants and tokens; its settings and secrets stay.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/clients/{clientId}/enable", (string clientId, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken) =>
                SetEnabledAsync(clientId, true, clients, user, cancellationToken))
            .WithName("EnableClient").WithSummary("Lets a disabled client in again (what it held stays revoked).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/clients/{clientId}/secrets", ListSecretsAsync)
            .WithName("ListClientSecrets").WithSummary("The client's secrets: id, creation, expiry and whether each still works; never a secret or its hash.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/clients/{clientId}/secrets", AddSecretAsync)
            .WithName("AddClientSecret").WithSummary("Generates a second secret, answered this once, beside the one in use (at most two active); previousExpiresAt ends the one in use at that time.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/clients/{clientId}/secrets/{secretId}", RemoveSecretAsync)
            .WithName("RemoveClientSecret").WithSummary("Removes one secret at once, on every node; never the client's last active one.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<Results<Ok<SeedClient>, ProblemHttpResult>> SetEnabledAsync(
        string clientId, bool enabled, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await clients.SetEnabledAsync(clientId, enabled, AdminAccess.Actor(user), cancellationToken) is { Outcome: ManagementOutcome.Done } result
            ? TypedResults.Ok(result.Client!.Client)
            : NotFound();

    private static async Task<Results<Ok<IReadOnlyList<ManagedSecret>>, ProblemHttpResult>> ListSecretsAsync(
        string clientId, ClientManagement clients, CancellationToken cancellationToken)
    {
        var result = await clients.ListSecretsAsync(clientId, cancellationToken);
        return result.Outcome == ManagementOutcome.Done ? TypedResults.Ok(result.Secrets!) : Problem(result);
    }

    private static async Task<Results<Created<NewSecret>, ValidationProblem, ProblemHttpResult>> AddSecretAsync(
        string clientId, AddSecretRequest? request, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await clients.AddSecretAsync(clientId, request, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome switch
        {
            ManagementOutcome.Done => TypedResults.Created(
                $"{AdminApi.Prefix}/clients/{Uri.EscapeDataString(clientId)}/secrets/{Uri.EscapeDataString(result.Added!.Id)}", result.Added),
            ManagementOutcome.Invalid => TypedResults.ValidationProblem(result.Errors!),
            _ => Problem(result),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveSecretAsync(
        string clientId, string secretId, ClientManagement clients, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await clients.RemoveSecretAsync(clientId, secretId, AdminAccess.Actor(user), cancellationToken);
        return result.Outcome == ManagementOutcome.Done ? TypedResults.NoContent() : Problem(result);
    }

    private static ProblemHttpResult Problem(SecretResult result) => TypedResults.Problem(
        statusCode: result.Outcome == ManagementOutcome.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict,
        title: result.Problem ?? "No such client.");

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
