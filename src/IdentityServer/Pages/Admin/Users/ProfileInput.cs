using IdentityServer.Admin;

namespace IdentityServer.Pages.Admin.Users;

/// <summary>The roles ticked and the profile claims typed on the admin account forms; an empty claim field means "no such claim".</summary>
public sealed class ProfileInput
{
    public List<string> Roles { get; set; } = [];

    public Dictionary<string, string?> Claims { get; set; } = [];

    internal IReadOnlyList<string?> RoleList() => Roles;

    internal IReadOnlyList<ClaimValue?> ClaimList() =>
        [.. Claims.Where(static c => !string.IsNullOrWhiteSpace(c.Value)).Select(static c => new ClaimValue(c.Key, c.Value))];
}
