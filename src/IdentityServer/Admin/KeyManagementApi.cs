using System.Security.Claims;
using IdentityServer.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace IdentityServer.Admin;

/// <summary>The signing keys the server makes itself (Keys:Mode=Automatic): list, rotate now, revoke.</summary>
internal static class KeyManagementApi
{
    /// <summary>The keys and the schedule they follow.</summary>
    internal sealed record KeyList(string Mode, TimeSpan RotationInterval, TimeSpan PublishAhead, IReadOnlyList<SigningKeyView> Keys);

    public static RouteGroupBuilder MapKeyManagement(this RouteGroupBuilder api)
    {
        api.MapGet("/keys", ListAsync)
            .WithName("ListSigningKeys").WithSummary("The signing keys (Keys:Mode=Automatic) with their state: next, current, retiring, retired or revoked; never key material.");
        api.MapPost("/keys/rotate", RotateAsync)
            .WithName("RotateSigningKeys").WithSummary("Publishes the next key now; it signs once it has been published for Keys:PublishAhead.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/keys/{keyId}/revoke", RevokeAsync)
            .WithName("RevokeSigningKey").WithSummary("Removes a compromised key from the JWKS at once on every node: tokens it signed stop validating; a signing key is replaced at once.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<Ok<KeyList>> ListAsync(IServiceProvider services, IOptions<KeyOptions> options, CancellationToken cancellationToken) =>
        TypedResults.Ok(Describe(options.Value, services.GetService<KeyRotation>() is { } rotation ? await rotation.ListAsync(cancellationToken) : []));

    private static async Task<Results<Ok<KeyList>, ProblemHttpResult>> RotateAsync(
        IServiceProvider services, IOptions<KeyOptions> options, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (services.GetService<KeyRotation>() is not { } rotation)
        {
            return CertificatesMode();
        }
        var result = await rotation.RotateNowAsync(AdminAccess.Actor(user), cancellationToken);
        return result.Done ? TypedResults.Ok(Describe(options.Value, result.Keys)) : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: result.Problem);
    }

    private static async Task<Results<Ok<KeyList>, ProblemHttpResult>> RevokeAsync(
        string keyId, IServiceProvider services, IOptions<KeyOptions> options, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (services.GetService<KeyRotation>() is not { } rotation)
        {
            return CertificatesMode();
        }
        var result = await rotation.RevokeAsync(keyId, AdminAccess.Actor(user), cancellationToken);
        return result switch
        {
            { Done: true } => TypedResults.Ok(Describe(options.Value, result.Keys)),
            { Problem: "" } => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such key."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: result.Problem),
        };
    }

    private static KeyList Describe(KeyOptions options, IReadOnlyList<SigningKeyView> keys) =>
        new(options.Mode == KeyMode.Automatic ? "automatic" : "certificates", options.RotationInterval, options.PublishAhead, keys);

    private static ProblemHttpResult CertificatesMode() => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
        title: "The signing keys are the configured certificates (Keys:Mode=Certificates): roll them as certs/README.md describes.");
}
