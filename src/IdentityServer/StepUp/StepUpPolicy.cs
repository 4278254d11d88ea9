using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.StepUp;

/// <summary>
/// The level an authorization request needs: the first supported value of its <c>acr_values</c>,
/// and at least <see cref="AuthenticationLevels.MultiFactor"/> for a client with <c>RequireMfa</c>
/// in the seed (as if it sent <c>acr_values=mfa</c>), whichever is stronger. Null: any session will do.
/// </summary>
public sealed class StepUpPolicy(IOpenIddictApplicationManager applications)
{
    /// <summary>The application property the seed's <c>RequireMfa: true</c> sets.</summary>
    public const string RequireMfaProperty = "require_mfa";

    public async Task<string?> RequiredLevelAsync(object application, IEnumerable<string> acrValues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(application);
        var requested = AuthenticationLevels.FirstSupported(acrValues);
        if (!await RequiresMfaAsync(application, cancellationToken))
        {
            return requested;
        }
        return requested is null ? AuthenticationLevels.MultiFactor : AuthenticationLevels.Stronger(requested, AuthenticationLevels.MultiFactor);
    }

    /// <summary>
    /// The level the authorization request a sign-in page will return to needs (for the page's
    /// wording only: the authorization endpoint decides). Null when the return URL is not an
    /// authorization request of a known client.
    /// </summary>
    public async Task<string?> RequiredLevelForReturnUrlAsync(string? returnUrl, CancellationToken cancellationToken)
    {
        if (AuthorizationQuery(returnUrl) is not { } query || ClientIdOf(query) is not { } clientId
            || await applications.FindByClientIdAsync(clientId, cancellationToken) is not { } application)
        {
            return null;
        }
        var acrValues = query.TryGetValue(Parameters.AcrValues, out var values) && values.Count == 1
            ? (values[0] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            : [];
        return await RequiredLevelAsync(application, acrValues, cancellationToken);
    }

    /// <summary>The client id of the authorization request a (local) return URL leads to, for the audit trail; null when it is none.</summary>
    public static string? ClientIdOf(string? returnUrl) => AuthorizationQuery(returnUrl) is { } query ? ClientIdOf(query) : null;

    private static Dictionary<string, StringValues>? AuthorizationQuery(string? returnUrl) =>
        returnUrl is not null && returnUrl.StartsWith("/connect/authorize?", StringComparison.OrdinalIgnoreCase)
            ? QueryHelpers.ParseQuery(returnUrl[returnUrl.IndexOf('?', StringComparison.Ordinal)..])
            : null;

    private static string? ClientIdOf(Dictionary<string, StringValues> query) =>
        query.TryGetValue(Parameters.ClientId, out var clientId) && clientId.Count == 1 && clientId[0] is { Length: > 0 and <= 200 } id ? id : null;

    private async Task<bool> RequiresMfaAsync(object application, CancellationToken cancellationToken) =>
        (await applications.GetPropertiesAsync(application, cancellationToken)).TryGetValue(RequireMfaProperty, out var value)
            && value.ValueKind == JsonValueKind.True;
}
