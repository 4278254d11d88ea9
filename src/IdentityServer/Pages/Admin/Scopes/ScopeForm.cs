using IdentityServer.Seeding;

namespace IdentityServer.Pages.Admin.Scopes;

/// <summary>A scope's settings as the admin pages edit them; display names in other languages stay as they are.</summary>
public sealed class ScopeForm
{
    public string Name { get; set; } = "";

    public string? DisplayName { get; set; }

    public string? Description { get; set; }

    public string? Resources { get; set; }

    public List<string> AccessTokenClaims { get; set; } = [];

    public static ScopeForm From(SeedScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return new ScopeForm
        {
            Name = scope.Name ?? "",
            DisplayName = scope.DisplayName,
            Description = scope.Description,
            Resources = string.Join('\n', scope.Resources),
            AccessTokenClaims = [.. scope.AccessTokenClaims],
        };
    }

    public SeedScope ToScope(Dictionary<string, string>? displayNames = null) => new()
    {
        Name = Name,
        DisplayName = string.IsNullOrWhiteSpace(DisplayName) ? null : DisplayName.Trim(),
        DisplayNames = displayNames ?? [],
        Description = string.IsNullOrWhiteSpace(Description) ? null : Description.Trim(),
        Resources = [.. (Resources ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)],
        AccessTokenClaims = [.. AccessTokenClaims.Distinct(StringComparer.Ordinal)],
    };
}
